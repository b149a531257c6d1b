"""``orchestrate apply`` in a subprocess, interrupted with SIGINT once the run is under way."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def interrupted_apply(args: list[str], ready: Callable[[], bool], after_s: float = 2.0) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``orchestrate apply ARGS`` sent SIGINT ``after_s`` after ``ready()``."""
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "apply", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(ready, 180), "the run never got under way"
        time.sleep(after_s)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err


def acknowledged(run: Path, workload: str) -> bool:
    """An interval record of the producer ``workload`` with acknowledged messages is on disk (its
    start record comes earlier: before it waits for the consumer groups)."""
    for path in (run / "raw" / "native" / workload).glob("*.jsonl"):
        for line in path.read_text().splitlines()[:-1]:  # the last line may still be being written
            record = json.loads(line)
            if record.get("type") == "interval" and record.get("acked", 0) > 0:
                return True
    return False
