"""The kafka role's OS tuning (tune.yml) run by real Ansible against a stand-in ``sysctl``: kernel
settings are host-wide, so a test must not change this machine's. The stand-in keeps its values in
a file and can refuse writes the way a container does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.provision.adhoc import run_play

pytestmark = pytest.mark.integration

FAKE_SYSCTL = """#!/bin/sh
# sysctl -n KEY | sysctl -w KEY=VALUE, over {state}
if [ "$1" = "-n" ]; then sed -n "s/^$2=//p" {state}; exit 0; fi
if [ -e {state}.readonly ]; then echo "sysctl: permission denied on key \\"${{2%%=*}}\\"" >&2; exit 255; fi
key=${{2%%=*}}
sed -i "/^$key=/d" {state} && echo "$2" >> {state} && echo "$key = ${{2#*=}}"
"""


def kernel(tmp_path: Path, values: dict[str, int], readonly: bool = False) -> Path:
    bin_dir, state = tmp_path / "bin", tmp_path / "sysctl.state"
    bin_dir.mkdir()
    state.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    if readonly:
        Path(f"{state}.readonly").touch()
    sysctl = bin_dir / "sysctl"
    sysctl.write_text(FAKE_SYSCTL.format(state=state))
    sysctl.chmod(0o755)
    return bin_dir


def settings(bin_dir: Path) -> dict[str, int]:
    lines = (bin_dir.parent / "sysctl.state").read_text().split()
    return {k: int(v) for k, v in (line.split("=") for line in lines)}


def tune(tmp_path: Path, bin_dir: Path):
    return run_play(tmp_path, {"tasks": [{"ansible.builtin.include_role": {"name": "kafka", "tasks_from": "tune"}}],
                               "vars": {"kafka_become": False}}, path_prefix=bin_dir)


def test_low_settings_are_raised_to_kafkas_needs(tmp_path: Path) -> None:
    bin_dir = kernel(tmp_path, {"vm.max_map_count": 65530, "vm.swappiness": 60})
    assert tune(tmp_path, bin_dir).rc == 0
    assert settings(bin_dir) == {"vm.max_map_count": 262144, "vm.swappiness": 1}


def test_settings_already_better_are_never_lowered(tmp_path: Path) -> None:
    bin_dir = kernel(tmp_path, {"vm.max_map_count": 1048576, "vm.swappiness": 0})
    assert tune(tmp_path, bin_dir).rc == 0
    assert settings(bin_dir) == {"vm.max_map_count": 1048576, "vm.swappiness": 0}


def test_a_refused_setting_is_reported_and_provisioning_goes_on(tmp_path: Path) -> None:
    bin_dir = kernel(tmp_path, {"vm.max_map_count": 65530, "vm.swappiness": 60}, readonly=True)
    result = tune(tmp_path, bin_dir)
    assert result.rc == 0
    assert settings(bin_dir) == {"vm.max_map_count": 65530, "vm.swappiness": 60}
    messages = [e["event_data"]["res"].get("msg", "") for e in result.events
                if e["event"] == "runner_item_on_ok" and "Report kernel settings" in e["event_data"].get("task", "")]
    assert any("OS tuning skipped for vm.swappiness: sysctl: permission denied" in m for m in messages), messages
