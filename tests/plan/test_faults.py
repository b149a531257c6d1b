"""The fault actions a plan may name, their parameters, and what their hosts must offer."""

from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest

from orchestrator.plan import faults
from orchestrator.plan.faults import ACTIONS

from .sample import BASE
from .test_checks import INV_OK, PROVISIONED

LOCAL_FAULT = BASE + "faults:\n  - name: f\n    action: {action}\n    at: 1s\n    duration: 1s\n"


def test_an_unknown_action_is_an_error_at_its_line_naming_the_known_ones(reject) -> None:
    (line,) = reject(LOCAL_FAULT.format(action="broker_explode"))
    assert line.startswith("PLAN:19:13: faults.0.action: ")
    assert all(name in line for name in ACTIONS) and "got 'broker_explode'" in line


@pytest.mark.parametrize(("extra", "expected"), [
    ("    latency: 20ms\n", "PLAN:22:14: faults.0.latency: 'latency' applies only to network_degrade, not to broker_kill"),
    ("    fill_to: 90%\n", "PLAN:22:14: faults.0.fill_to: 'fill_to' applies only to disk_full, not to broker_kill"),
])
def test_a_parameter_of_another_action_is_refused(reject, extra: str, expected: str) -> None:
    assert reject(LOCAL_FAULT.format(action="broker_kill") + extra) == [expected]


def test_a_degrade_that_degrades_nothing_is_refused(reject) -> None:
    assert reject(LOCAL_FAULT.format(action="network_degrade")) == [
        "PLAN:18:5: faults.0: network_degrade needs at least one of latency, loss or bandwidth"]


def _lacking(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    """Every need whose name is in ``missing`` is absent on this machine, the others present."""
    monkeypatch.setattr(faults, "present", lambda need: need.what not in missing)


def test_a_host_without_what_the_fault_needs_is_refused_at_validate_naming_it(reject, monkeypatch) -> None:
    _lacking(monkeypatch, "iptables", "root privileges")
    text = PROVISIONED + INV_OK + "faults:\n  - name: f\n    action: network_partition\n    broker: b2\n    at: 1s\n    duration: 1s\n"
    assert reject(text) == ["PLAN:27:13: faults.0.action: host b2 lacks what network_partition needs: "
                            "root privileges, iptables"]


def test_latency_needs_netem_and_loss_alone_does_not(reject, monkeypatch, write_plan) -> None:
    _lacking(monkeypatch, faults.NETEM.what)
    degrade = LOCAL_FAULT.format(action="network_degrade")
    assert reject(degrade + "    latency: 50ms\n") == [
        "PLAN:19:13: faults.0.action: this machine lacks what network_degrade needs: kernel qdisc netem (sch_netem)"]
    from orchestrator.cli import main

    assert main(["validate", str(write_plan(degrade + "    loss: 1%\n"))]) == 0


def test_describing_a_plan_does_not_check_the_hosts(monkeypatch, write_plan, capsys) -> None:
    from orchestrator.cli import main

    _lacking(monkeypatch, "root privileges")
    assert main(["plan", str(write_plan(LOCAL_FAULT.format(action="network_partition")))]) == 0


def test_a_host_reached_over_ssh_is_not_checked_here(monkeypatch, write_plan) -> None:
    """What it offers is asked on the host when apply prepares the fault (execute/faults/hosts.py)."""
    from orchestrator.cli import main

    _lacking(monkeypatch, "root privileges", "iptables")
    inventory = INV_OK.replace("{name: b2, address: 127.0.0.1, roles: [broker, controller], connection: local,",
                               "{name: b2, address: 10.0.0.2, roles: [broker, controller],")
    for action in ("disk_full", "network_partition"):
        text = PROVISIONED + inventory + f"faults:\n  - name: f\n    action: {action}\n    broker: 2\n    at: 1s\n    duration: 1s\n"
        assert main(["validate", str(write_plan(text))]) == 0


def test_a_remote_host_needs_no_cgroup_and_every_need_has_a_shell_test() -> None:
    spec = SimpleNamespace(latency=0.05, loss=0.01, bandwidth=None)
    remote = ACTIONS["network_degrade"].needs(spec, True)  # type: ignore[arg-type]
    assert faults.CGROUP2 not in remote and faults.NETEM in remote and faults.STATISTIC_MATCH in remote
    assert all(need.test for need in ACTIONS["network_degrade"].needs(spec, False))  # type: ignore[arg-type]


def test_a_kernel_need_holds_on_this_machine_exactly_when_its_shell_test_does() -> None:
    for need in (faults.NETEM, faults.HTB, faults.CGROUP_MATCH, faults.ROOT, faults.tool("sh"), faults.tool("no-such-tool")):
        assert (subprocess.run(["sh", "-c", need.test]).returncode == 0) == need.present(), need.what


def test_signal_faults_need_nothing_and_reach_hosts_over_ssh() -> None:
    for name in ("broker_stop", "broker_kill", "broker_pause", "rolling_restart", "decommission", "disk_full"):
        assert ACTIONS[name].needs(None, True) == ()  # type: ignore[arg-type]
