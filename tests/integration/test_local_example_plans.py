"""The example plans for a local broker that no other module applies, applied end to end at a short
duration (``--set``) against a real local broker: broker-headroom (the broker's own JMX metrics and
this host's CPU as SLOs) and jmeter-reuse (an existing JMeter script through real bzt and JMeter,
beside a native producer and consumer)."""

from __future__ import annotations

import pytest

from tests.integration.test_question_plans import apply

pytestmark = pytest.mark.integration


def _slos(summary: dict) -> dict[str, dict]:
    return {s["name"]: s for s in summary["slos"]}


def test_broker_headroom_plan_judges_the_broker_by_its_own_metrics(tmp_path) -> None:
    code, summary = apply("broker-headroom.yaml", tmp_path / "run",
                          "phases.warmup.duration=5s", "phases.steady.duration=15s", "workloads.producer.rate=1k/s")
    slos = _slos(summary)
    assert summary["run"]["status"] == "completed"
    # read from the broker's JMX over the measured window, each with a value
    assert all(slos[name]["observed"] is not None for name in ("handlers-idle", "network-idle", "produce-total-p99"))
    assert slos["handlers-idle"]["verdict"] == "pass" and slos["nothing-lost"]["verdict"] == "pass"
    assert code in (0, 1)


def test_jmeter_reuse_plan_runs_the_script_beside_the_native_load(tmp_path) -> None:
    code, summary = apply("jmeter-reuse.yaml", tmp_path / "run",
                          "phases.warmup.duration=15s", "phases.steady.duration=15s")
    slos = _slos(summary)
    workloads = {w["name"]: w for w in summary["workloads"]}
    assert summary["run"]["status"] == "completed"
    assert workloads["legacy-jmx"]["messages"] > 0 and workloads["native-producer"]["messages"] > 0
    assert slos["jmeter-errors"]["verdict"] == "pass" and slos["native-nothing-lost"]["verdict"] == "pass"
    # the script's own pacing (500 msg/s over both threads) was kept, within what a short run can show
    assert slos["jmeter-keeps-pace"]["observed"] >= 250
    assert code in (0, 1)
