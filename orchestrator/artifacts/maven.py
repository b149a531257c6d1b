"""One way to call Maven (and to find a tool on PATH), shared by the Kafka and JMeter artefacts and the plugin resolver."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from orchestrator.errors import RunError, ToolMissingError

MVN_TIMEOUT_S = 900


def require_tool(name: str, fix: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"{name} not found on PATH; {fix}")
    return path


def run_mvn(args: list[str], what: str, pom: Path | None = None) -> str:
    """Run ``mvn -B -q ARGS``; raise RunError naming ``what`` with Maven's last error line."""
    mvn = require_tool("mvn", "install Maven (Debian: apt-get install maven)")
    cmd = [mvn, "-B", "-q"] + (["-f", str(pom)] if pom else []) + args
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=MVN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RunError(f"{what}: mvn did not finish within {MVN_TIMEOUT_S}s") from None
    if done.returncode != 0:
        raise RunError(f"{what}: mvn failed: {last_error_line(done.stdout + done.stderr) or done.returncode}")
    return done.stdout


def last_error_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line]
    return (errors or lines or [""])[-1]
