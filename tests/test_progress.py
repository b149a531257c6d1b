from __future__ import annotations

import io
import re

from orchestrator.progress import LiveProgress, PlainProgress, Progress, Snapshot


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_terminal_gets_a_plain_line_per_step_and_per_interval(monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("orchestrator.progress.time.monotonic", lambda: clock[0])
    stream = io.StringIO()
    progress = Progress.for_stream(stream, every_s=10)
    assert isinstance(progress, PlainProgress)
    progress.step("starting the local broker")
    for t in (100.0, 104.0, 109.9, 110.0):
        clock[0] = t
        progress.update(Snapshot("hold", t - 100, 60, produced_per_s=2000, consumed_per_s=1990,
                                 publish_p99_ms=3.14159, e2e_p99_ms=12.5, lag=40))
    progress.close()
    lines = stream.getvalue().splitlines()
    assert [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in lines] == [
        "starting the local broker",
        "hold · 0:00 elapsed · 1:00 left · produce 2,000/s (p99 3.14 ms) · consume 1,990/s (e2e p99 12.5 ms) · lag 40",
        "hold · 0:10 elapsed · 1:00 left · produce 2,000/s (p99 3.14 ms) · consume 1,990/s (e2e p99 12.5 ms) · lag 40",
    ]
    assert all(re.match(r"\d\d:\d\d:\d\d ", line) for line in lines)


def test_progress_every_zero_stays_silent() -> None:
    stream = io.StringIO()
    progress = Progress.for_stream(stream, every_s=0)
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


def test_p99_of_hundreds_of_ms_reads_as_a_whole_number() -> None:
    line = Snapshot("hold", 1, 2, publish_p99_ms=1890.4, e2e_p99_ms=0.512).line()
    assert "produce 0/s (p99 1,890 ms)" in line and "consume 0/s (e2e p99 0.512 ms)" in line
