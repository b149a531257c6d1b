"""``kill -9`` of apply: every process of the run ends by itself, and the rebuilt report says killed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from orchestrator.cli import EXIT_UNFINISHED, main
from orchestrator.execute.lifeline import registry_dir

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BOUND_S = 90  # a broker's controlled shutdown on a loaded machine; nothing here measures time


def _flowing(run: Path) -> bool:
    """Both runners have written an interval with messages in it."""
    def moved(path: Path, field: str) -> bool:
        lines = path.read_text().splitlines() if path.exists() else []
        return any(json.loads(ln).get(field, 0) > 0 for ln in lines[:-1] if '"interval"' in ln)
    native = run / "raw" / "native"
    return moved(native / "producer" / "0.jsonl", "acked") and moved(native / "consumer" / "0.jsonl", "received")


def test_sigkill_of_apply_leaves_nothing_running_and_the_report_says_killed(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    apply = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "apply", str(ROOT / "plans" / "quickstart.yaml"),
         "--set", "phases.warmup.duration=2s", "--set", "phases.steady.duration=5m",
         "--run-dir", str(run)],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while not _flowing(run):
            assert apply.poll() is None and time.monotonic() < deadline, "no load flowed"
            time.sleep(0.5)
        family = psutil.Process(apply.pid).children(recursive=True)
        names = sorted(p.name() for p in family)
        assert "java" in names and "iostat" in names  # the broker and the disk monitor
        assert len([p for p in family if "orchestrator.runner" in " ".join(p.cmdline())]) == 2
        apply.send_signal(signal.SIGKILL)
        apply.wait()
    finally:
        if apply.poll() is None:
            apply.kill()
    _, alive = psutil.wait_procs(family, timeout=BOUND_S)
    assert [f"{p.name()} {p.pid}" for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []
    assert not [p for p in registry_dir().glob("*.json") if str(run) in p.read_text()]

    assert main(["report", str(run)]) == EXIT_UNFINISHED
    assert "run killed" in capsys.readouterr().out
    assert json.loads((run / "summary.json").read_text())["run"]["status"] == "killed"
