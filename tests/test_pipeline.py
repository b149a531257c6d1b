from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import yaml

from orchestrator import pipeline
from orchestrator.errors import EngineError, RunError
from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.execute.base import Component, LiveStats
from orchestrator.plan.models import Plan
from orchestrator.progress import Progress
from orchestrator.summary import RunInfo, SloResult, Summary

CLUSTER = Cluster("127.0.0.1:9", [BrokerHandle(0, "localhost", "127.0.0.1:9", pid=1)], "4.1.1")


def make_plan(**extra) -> Plan:
    data = {
        "metadata": {"name": "unit"},
        "topics": [{"name": "t", "delete_after": True}],
        "workloads": [{"name": "p", "kind": "producer", "topic": "t", "rate": "10/s",
                       "properties": {"sasl.password": "hunter2", "linger.ms": 3}}],
        "phases": [{"name": "warm", "kind": "warmup", "duration": "0.2s"},
                   {"name": "hold", "kind": "steady", "duration": "0.2s"}],
    }
    return Plan.model_validate({**data, **extra})


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []


class FakeComponent(Component):
    def __init__(self, name: str, log: Recorder, polls: int = 1, fail_prepare: bool = False, on_poll=None):
        self.name, self.log, self.polls = name, log, polls
        self.fail_prepare, self.on_poll = fail_prepare, on_poll

    def prepare(self, cluster: Cluster) -> None:
        self.log.calls.append(f"prepare {self.name}")
        if self.fail_prepare:
            raise EngineError(f"workload {self.name}: cannot start")

    def start(self) -> None:
        self.log.calls.append(f"start {self.name} at={self.start_at is not None}")

    def poll(self) -> bool:
        if self.on_poll is not None:
            self.on_poll()
        self.polls -= 1
        return self.polls > 0

    def stop(self) -> None:
        self.log.calls.append(f"stop {self.name}")

    def live_stats(self) -> LiveStats:
        return LiveStats(produced_per_s=10.0)


class FakeSession:
    def __init__(self, log: Recorder, *args) -> None:
        self.log, self.cluster, self.local = log, None, None

    def open(self) -> Cluster:
        self.log.calls.append("open target")
        self.cluster = CLUSTER
        return CLUSTER

    def close(self, keep_broker: bool) -> str | None:
        self.log.calls.append(f"close target keep={keep_broker}")
        return "127.0.0.1:9 (pid 1)" if keep_broker else None


@pytest.fixture
def wired(monkeypatch, tmp_path):
    """apply with a fake target, fake components and a fake report; returns (recorder, components)."""
    log = Recorder()
    comps = pipeline.Components(loads=[FakeComponent("load", log, polls=10_000)],
                                helpers=[FakeComponent("monitor", log, polls=10_000)])
    verdict = {"value": "pass"}

    def build(run) -> Summary:
        run_dir = run.root
        log.calls.append("report")
        events = [json.loads(line) for line in (run_dir / "raw" / "events.jsonl").read_text().splitlines()]
        status = "interrupted" if any(e["kind"] == "interrupt" for e in events) else "completed"
        return Summary(run=RunInfo(id=run_dir.name, status=status), verdict=verdict["value"], slos=[
            SloResult(name="s", metric="produce.rate", op=">=", threshold=1, unit="msg/s", observed=2,
                      verdict=verdict["value"])])

    monkeypatch.setattr(pipeline, "START_LEAD_S", 0.05)
    monkeypatch.setattr(pipeline, "POLL_S", 0.02)
    monkeypatch.setattr(pipeline, "DRAIN_GRACE_S", 0.5)
    monkeypatch.setattr(pipeline, "TargetSession", lambda *a: FakeSession(log, *a))
    monkeypatch.setattr(pipeline, "build_components", lambda *a: comps)
    monkeypatch.setattr("orchestrator.execute.topics.ensure_topics", lambda c, t: log.calls.append("topics"))
    monkeypatch.setattr("orchestrator.execute.topics.delete_topics", lambda c, t: log.calls.append("delete topics"))
    monkeypatch.setattr(pipeline, "build_report", build)
    return log, comps, verdict


def _apply(tmp_path: Path, plan: Plan | None = None, keep: bool = False) -> pipeline.Outcome:
    return pipeline.apply(plan or make_plan(), Path("plan.yaml"), tmp_path / "run", keep, Progress())


def _events(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "run" / "raw" / "events.jsonl").read_text().splitlines()]


def test_apply_runs_the_steps_in_order(wired, tmp_path) -> None:
    log, _, _ = wired
    outcome = _apply(tmp_path)
    assert log.calls == ["open target", "topics", "prepare monitor", "prepare load", "start monitor at=True",
                         "start load at=True", "stop load", "stop monitor", "delete topics",
                         "close target keep=False", "report"]
    assert outcome.exit_code() == 0


def test_phase_events_follow_the_plan(wired, tmp_path) -> None:
    _apply(tmp_path)
    marks = [(e["kind"], e["name"]) for e in _events(tmp_path)]
    assert marks == [("run_start", "unit"), ("phase_start", "warm"), ("phase_end", "warm"), ("phase_start", "hold"),
                     ("phase_end", "hold"), ("run_end", "unit")]


def test_phase_boundaries_are_the_scheduled_times(wired, tmp_path) -> None:
    _apply(tmp_path)
    ts = {(e["kind"], e["name"]): e["ts"] for e in _events(tmp_path)}
    assert ts[("phase_end", "warm")] == ts[("phase_start", "hold")]
    assert ts[("phase_start", "warm")] == ts[("run_start", "unit")]


def test_failed_prepare_still_stops_tears_down_and_reports(wired, tmp_path) -> None:
    log, comps, _ = wired
    comps.loads[0].fail_prepare = True
    with pytest.raises(EngineError, match="workload load: cannot start"):
        _apply(tmp_path)
    assert log.calls[-5:] == ["stop load", "stop monitor", "delete topics", "close target keep=False", "report"]


def test_unexpected_error_becomes_a_one_line_run_error(wired, tmp_path) -> None:
    _, comps, _ = wired

    def boom() -> None:
        raise ValueError("bad value\nsecond line")

    comps.loads[0].on_poll = boom
    with pytest.raises(RunError, match=r"^ValueError: bad value \(raw results kept in .*run\)$"):
        _apply(tmp_path)


def test_sigint_stops_components_and_exits_130_with_a_report(wired, tmp_path) -> None:
    log, comps, _ = wired
    comps.loads[0].on_poll = lambda: os.kill(os.getpid(), signal.SIGINT)
    outcome = _apply(tmp_path)
    assert outcome.exit_code() == 130
    assert outcome.headline().startswith("INTERRUPTED: partial report")
    assert log.calls[-5:] == ["stop load", "stop monitor", "delete topics", "close target keep=False", "report"]
    assert [e["name"] for e in _events(tmp_path) if e["kind"] == "interrupt"] == ["SIGINT"]


def test_consumers_start_before_producers_and_stop_after_them_on_an_interrupt(wired, tmp_path) -> None:
    log, comps, _ = wired
    comps.consumers.append(FakeComponent("consumer", log, polls=10_000))
    comps.loads[0].on_poll = lambda: os.kill(os.getpid(), signal.SIGINT)
    assert _apply(tmp_path).exit_code() == 130
    starts = [c for c in log.calls if c.startswith(("start", "stop"))]
    assert starts == ["start monitor at=True", "start consumer at=True", "start load at=True",
                      "stop load", "stop consumer", "stop monitor"]


def test_a_draining_consumer_is_stopped_once_the_loads_finish_and_another_is_waited_for(wired, tmp_path,
                                                                                        monkeypatch) -> None:
    log, comps, _ = wired
    monkeypatch.setattr(pipeline, "DRAIN_GRACE_S", 30.0)
    comps.loads[0].polls = 30  # the plan's 0.4 s are about 20 polls
    drains, waits = FakeComponent("drains", log, polls=10_000_000), FakeComponent("waits", log, polls=45)
    drains.stops_by_draining = True
    comps.consumers += [drains, waits]
    _apply(tmp_path)
    # the draining consumer still ran when the run ended (stopped, not finished); the other one
    # was polled until it finished by itself
    assert drains.polls > 0 and waits.polls == 0
    assert log.calls.index("stop load") < log.calls.index("stop waits") < log.calls.index("stop drains")


def test_sigterm_is_an_interrupt_too(wired, tmp_path) -> None:
    _, comps, _ = wired
    comps.loads[0].on_poll = lambda: os.kill(os.getpid(), signal.SIGTERM)
    assert _apply(tmp_path).exit_code() == 130
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_failed_slo_exits_1(wired, tmp_path) -> None:
    _, _, verdict = wired
    verdict["value"] = "fail"
    outcome = _apply(tmp_path)
    assert outcome.exit_code() == 1
    assert outcome.headline().startswith("FAIL: 0/1 SLOs held; failed: s — report: ")


def test_kept_broker_is_named_in_the_headline(wired, tmp_path) -> None:
    log, _, _ = wired
    outcome = _apply(tmp_path, keep=True)
    assert "close target keep=True" in log.calls
    assert outcome.headline().endswith("broker left running at 127.0.0.1:9 (pid 1)")


def test_abort_slo_stops_the_run_early(wired, tmp_path, monkeypatch) -> None:
    breach = SloResult(name="lat", metric="publish_latency.p99", op="<=", threshold=1, unit="ms", observed=5,
                       verdict="fail")

    class Watch:
        def check(self):
            return breach

    monkeypatch.setattr(pipeline, "ABORT_CHECK_S", 0.0)
    monkeypatch.setattr(pipeline, "_abort_watch", lambda plan, run: Watch())
    long = make_plan(phases=[{"name": "hold", "kind": "steady", "duration": "1h"}])
    _apply(tmp_path, long)
    kinds = [(e["kind"], e["name"]) for e in _events(tmp_path)]
    assert ("abort", "lat") in kinds and ("slo_breach", "lat") in kinds
    assert ("phase_end", "hold") in kinds


def test_resolved_plan_redacts_secret_properties(wired, tmp_path) -> None:
    _apply(tmp_path, make_plan(target={"kind": "local", "properties": {"ssl.keystore.password": "pw"}}))
    text = (tmp_path / "run" / "plan.resolved.yaml").read_text()
    assert "hunter2" not in text and "ssl.keystore.password: <redacted>" in text
    resolved = Plan.model_validate(yaml.safe_load(text))
    assert resolved.workloads[0].properties["linger.ms"] == 3


def test_describe_lists_each_step_with_its_settings() -> None:
    plan = make_plan(faults=[{"name": "k", "action": "broker_kill", "at": "0.1s", "duration": "0.1s"}])
    text = "\n".join(pipeline.describe(plan, Path("plan.yaml")))
    assert "ensure topic t: 1 partitions, replication factor 1" in text
    assert "workload p: producer, engine native, 1 instance(s) on this machine: topic t, rate 10 msg/s" in text
    assert "+0:00:00 phase warm: warmup" in text
    assert "fault k: +0:00:00 broker_kill on broker 0" in text


def test_redaction_keeps_env_var_names_and_covers_jmeter_properties() -> None:
    plan = make_plan(
        target={"kind": "existing", "bootstrap_servers": ["127.0.0.1:9"],
                "security": {"protocol": "SASL_PLAINTEXT", "sasl": {"username": "u", "password_env": "PW_VAR"}}},
        workloads=[{"name": "j", "kind": "script", "script": "/x.jmx", "jmeter_properties": {"kafka.password": "pw"}}])
    data = pipeline.redacted_plan(plan)
    assert data["target"]["security"]["sasl"]["password_env"] == "PW_VAR"
    assert data["workloads"][0]["jmeter_properties"]["kafka.password"] == "<redacted>"


def test_every_engine_a_plan_accepts_has_a_load_component() -> None:
    from typing import get_args

    from orchestrator.pipeline import LOAD_ENGINES
    from orchestrator.plan.models import Engine

    assert set(get_args(Engine)) == set(LOAD_ENGINES)


def test_each_step_of_a_steps_phase_is_named_in_the_events(wired, tmp_path) -> None:
    stairs = make_plan(phases=[{"name": "stairs", "kind": "steps", "step_duration": "0.1s", "rates": ["10/s", "20/s"]}])
    _apply(tmp_path, stairs)
    marks = [(e["kind"], e["name"], e["detail"]) for e in _events(tmp_path) if e["kind"] not in ("run_start", "run_end")]
    assert marks == [("phase_start", "stairs", "steps"), ("step_start", "stairs/1", "step 10 msg/s"),
                     ("step_end", "stairs/1", ""), ("step_start", "stairs/2", "step 20 msg/s"),
                     ("step_end", "stairs/2", ""), ("phase_end", "stairs", "")]


def test_a_step_cut_short_ends_with_its_phase(wired, tmp_path) -> None:
    _, comps, _ = wired

    def interrupt_once_stepping() -> None:
        if any(e["kind"] == "step_start" for e in _events(tmp_path)):
            os.kill(os.getpid(), signal.SIGINT)

    comps.loads[0].on_poll = interrupt_once_stepping
    _apply(tmp_path, make_plan(phases=[{"name": "stairs", "kind": "steps", "step_duration": "1h", "rates": ["10/s", "20/s"]}]))
    ends = [(e["kind"], e["name"], e["detail"]) for e in _events(tmp_path) if e["kind"] in ("step_end", "phase_end")]
    assert ends == [("step_end", "stairs/1", "cut short"), ("phase_end", "stairs", "cut short")]


def test_describe_tells_what_a_search_does() -> None:
    plan = Plan.model_validate(yaml.safe_load((Path(__file__).parents[1] / "plans" / "capacity-at-latency-slo.yaml").read_text()))
    text = "\n".join(pipeline.describe(plan, Path("plan.yaml")))
    assert ("+0:00:30 phase search: search for the highest rate that holds p99-under-50ms, no-send-errors, from "
            "5,000 msg/s times 2 up to at most 500,000 msg/s, then bisecting to 5 %") in text
    assert "phases end at the latest (the search ends when it has its answer)" in text
    assert "(all workloads, each probe of the search; the verdict over its confirmation and the phases before it)" in text


def test_provision_asks_each_faults_host_for_what_it_needs_and_refuses_in_one_line(monkeypatch, tmp_path) -> None:
    plan = make_plan(target={"kind": "provisioned"}, provision={},
                     inventory={"hosts": [{"name": "b1", "address": "10.0.0.1", "roles": ["broker", "controller"]}]},
                     faults=[{"name": "cut", "action": "network_partition", "at": "0.1s", "duration": "0.1s"}])
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr("orchestrator.provision.provision", lambda plan, path, on_event=None: "provisioned 1 node")
    monkeypatch.setattr("orchestrator.provision.running_cluster", lambda plan, path, ansible_dir, on_event=None: CLUSTER)
    asked = []

    def check(spec, cluster, local, hosts):
        asked.append((spec.name, cluster, dict(local), hosts.plan is plan))
        raise RunError("fault cut: host b1 cannot partition the network: iptables missing")

    monkeypatch.setattr("orchestrator.execute.fault.checked_action", check)
    with pytest.raises(RunError) as err:
        pipeline.provision(plan, tmp_path / "plan.yaml")
    assert asked == [("cut", CLUSTER, {}, True)]
    assert str(err.value) == ("fault cut: host b1 cannot partition the network: iptables missing "
                              "(provisioned 1 node; it stays up until `orchestrate destroy`)")
    monkeypatch.setattr("orchestrator.execute.fault.checked_action", lambda *a: None)
    assert pipeline.provision(plan, tmp_path / "plan.yaml") == "provisioned 1 node"
