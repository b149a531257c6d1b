"""The kafka role's systemd unit, rendered by real Ansible and checked by ``systemd-analyze verify``.

Containers like CI's have no running systemd, so the unit cannot be started here; verifying it
catches what would break on a real host: unknown keys, bad values, a missing ExecStart binary.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.provision.adhoc import PLAYBOOKS, run_play

ROLE_TEMPLATES = PLAYBOOKS / "roles" / "kafka" / "templates"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (package systemd)"),
]


def render_unit(tmp_path: Path, service_script: Path) -> Path:
    unit = tmp_path / "orchestrate-kafka-1.service"
    result = run_play(tmp_path, {
        "vars": {"kafka_version": "4.1.1", "kafka_node_id": 1, "ansible_user_id": "root",
                 "kafka_service_script": str(service_script), "kafka_nofile": 100000},
        "tasks": [{"ansible.builtin.template": {"src": str(ROLE_TEMPLATES / "kafka.service.j2"), "dest": str(unit)}}],
    })
    assert result.rc == 0, result.stdout.read()
    return unit


def test_kafka_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    script = tmp_path / "kafka-service.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    unit = render_unit(tmp_path, script)
    text = unit.read_text()
    assert f"ExecStart={script} run" in text and "LimitNOFILE=100000" in text
    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr
