from __future__ import annotations

import io

from orchestrator.progress import LiveProgress, Progress, Snapshot


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_terminal_stays_silent() -> None:
    stream = io.StringIO()
    progress = Progress.for_stream(stream)
    progress.step("starting")
    progress.update(Snapshot("hold", 1, 2))
    progress.close()
    assert stream.getvalue() == ""


def test_terminal_redraws_one_line_and_clears_it() -> None:
    stream = Tty()
    progress = Progress.for_stream(stream)
    assert isinstance(progress, LiveProgress)
    progress.update(Snapshot("hold", 65, 3600, produced_per_s=2000, consumed_per_s=1999.6, errors=2))
    assert stream.getvalue() == "\rhold · 1:05 elapsed · 1:00:00 left · produce 2,000/s · consume 2,000/s · 2 errors"
    progress.close()
    assert stream.getvalue().endswith("\r")
    assert "\n" not in stream.getvalue()
