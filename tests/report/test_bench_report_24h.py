"""bench/report_24h.py keeps working as the report grows (it once broke on a field the collector
gained): the same synthetic run, ten minutes long instead of a day."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "report_24h.py"


def test_the_report_benchmark_writes_every_output_of_a_short_run(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", [str(BENCH), "--seconds", "600", "--keep", str(tmp_path / "run")])
    runpy.run_path(str(BENCH), run_name="__main__")
    out = capsys.readouterr().out
    assert "goal < 10 s: " in out and "index.html size" in out
    for name in ("summary.json", "junit.xml", "results/timeline.csv", "results/omb.json", "report/index.html"):
        assert (tmp_path / "run" / name).stat().st_size > 0, name
