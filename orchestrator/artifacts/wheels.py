"""A wheelhouse for the native runner's dependencies, built on the controller (which can reach
PyPI) and copied to agents (which often cannot). Cached per user and per dependency version."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from orchestrator.errors import RunError
from orchestrator.artifacts.cache import cache_dir

PIP_TIMEOUT_S = 600
MARKER = ".complete"


def wheelhouse() -> Path:
    """A directory of wheels that installs the runner's dependencies offline."""
    pin = f"confluent-kafka=={version('confluent-kafka')}"
    target = cache_dir("wheels") / f"py{sys.version_info.major}{sys.version_info.minor}" / pin
    if (target / MARKER).exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q",
           "--only-binary=:all:", "--dest", str(target), pin]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RunError(f"pip download {pin} did not finish within {PIP_TIMEOUT_S}s") from None
    if done.returncode != 0:
        lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        raise RunError(f"pip download {pin} failed: {lines[-1] if lines else done.returncode}")
    (target / MARKER).write_text(pin + "\n")
    return target
