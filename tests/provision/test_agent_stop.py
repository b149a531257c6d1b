"""teardown's agent step (roles/agent/tasks/stop.yml), run by real Ansible: whatever a killed apply
left on an agent (native runners, jmeter-servers) is stopped, by pidfile."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.provision.adhoc import run_play

pytestmark = pytest.mark.integration


def leftover(pidfile: Path) -> subprocess.Popen:
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(["sleep", "120"])
    pidfile.write_text(f"{process.pid}\n")
    return process


def test_stop_ends_runners_and_jmeter_servers_left_behind(tmp_path: Path) -> None:
    home = tmp_path / "agent"
    runner = leftover(home / "runs" / "r1" / "prod-0.pid")
    server = leftover(home / "runs" / "r1" / "jmeter-jprod" / "server.pid")
    try:
        result = run_play(tmp_path, {"vars": {"agent_home": str(home)}, "tasks": [
            {"ansible.builtin.include_role": {"name": "agent", "tasks_from": "stop"}}]})
        assert result.rc == 0
        assert runner.wait(timeout=10) == -15 and server.wait(timeout=10) == -15
    finally:
        for process in (runner, server):
            process.kill()
