"""The fault actions a plan may name, their parameters, and what their hosts must offer."""

from __future__ import annotations

import pytest

from orchestrator.plan.faults import ACTIONS

from .sample import BASE
from .test_checks import INV_OK, PROVISIONED

LOCAL_FAULT = BASE + "faults:\n  - name: f\n    action: {action}\n    at: 1s\n    duration: 1s\n"


def test_an_unknown_action_is_an_error_at_its_line_naming_the_known_ones(reject) -> None:
    (line,) = reject(LOCAL_FAULT.format(action="broker_explode"))
    assert line.startswith("PLAN:19:13: faults.0.action: ")
    assert all(name in line for name in ACTIONS) and "got 'broker_explode'" in line


@pytest.mark.parametrize(("extra", "expected"), [
    ("    fill_to: 90%\n", "PLAN:22:14: faults.0.fill_to: 'fill_to' applies only to disk_full, not to broker_kill"),
])
def test_a_parameter_of_another_action_is_refused(reject, extra: str, expected: str) -> None:
    assert reject(LOCAL_FAULT.format(action="broker_kill") + extra) == [expected]


def test_a_fault_that_acts_only_here_is_refused_for_a_host_reached_over_ssh(reject) -> None:
    inventory = INV_OK.replace("{name: b2, address: 127.0.0.1, roles: [broker, controller], connection: local,",
                               "{name: b2, address: 10.0.0.2, roles: [broker, controller],")
    text = PROVISIONED + inventory + "faults:\n  - name: f\n    action: disk_full\n    broker: 2\n    at: 1s\n    duration: 1s\n"
    assert reject(text) == ["PLAN:27:13: faults.0.action: host b2 is reached over ssh, but disk_full acts only on "
                            "brokers on this machine (connection: local)"]


def test_signal_faults_need_nothing_and_reach_hosts_over_ssh() -> None:
    for name in ("broker_stop", "broker_kill", "broker_pause", "rolling_restart", "decommission"):
        assert not ACTIONS[name].this_machine and ACTIONS[name].needs(None) == ()  # type: ignore[arg-type]
