"""``orchestrate apply`` in a subprocess, interrupted with SIGINT once the run is under way."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable


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
