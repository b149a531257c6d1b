from __future__ import annotations

import json
import signal
import time

import pytest

from orchestrator.errors import BrokerError, RunError
from orchestrator.events import EventLog
from orchestrator.execute.base import BrokerHandle, Cluster
from orchestrator.execute.fault import Fault
from orchestrator.execute.local_kafka import LocalKafka
from orchestrator.execute.topics import admin_client
from orchestrator.plan.models import Fault as FaultSpec


class FakeBroker:
    def __init__(self, fail_restart: bool = False):
        self.calls: list[str] = []
        self.fail_restart = fail_restart

    def signal(self, signum: int) -> None:
        self.calls.append(signal.Signals(signum).name)

    def wait_exit(self, timeout: float) -> bool:
        self.calls.append("wait_exit")
        return True

    def restart(self) -> None:
        if self.fail_restart:
            raise BrokerError("no luck")
        self.calls.append("restart")


CLUSTER = Cluster("127.0.0.1:1", [BrokerHandle(0, "localhost", "127.0.0.1:1", pid=42)], "4.1.1")


def _run(fault: Fault, cluster: Cluster = CLUSTER) -> None:
    fault.prepare(cluster)
    fault.schedule(time.time())
    fault.start()
    try:
        for _ in range(200):
            if not fault.poll():
                return
            time.sleep(0.05)
    finally:
        fault.stop()


def _kinds(log: EventLog) -> list[str]:
    return [json.loads(line)["kind"] for line in log.path.read_text().splitlines()]


@pytest.mark.parametrize("action, calls", [
    ("broker_kill", ["SIGKILL", "wait_exit", "restart"]),
    ("broker_stop", ["SIGTERM", "wait_exit", "restart"]),
    ("broker_pause", ["SIGSTOP", "SIGCONT"]),
])
def test_fault_signals_then_recovers(tmp_path, action, calls) -> None:
    broker, log = FakeBroker(), EventLog(tmp_path / "events.jsonl")
    _run(Fault(FaultSpec(name="f", action=action, at=0, duration=0.01), log, {0: broker}))
    assert broker.calls == calls
    assert _kinds(log) == ["fault_start", "fault_end"]


def test_stop_recovers_a_paused_broker_early(tmp_path) -> None:
    broker, log = FakeBroker(), EventLog(tmp_path / "events.jsonl")
    fault = Fault(FaultSpec(name="f", action="broker_pause", at=0, duration=3600), log, {0: broker})
    fault.prepare(CLUSTER)
    fault.schedule(time.time())
    fault.start()
    while not broker.calls:
        time.sleep(0.01)
    fault.stop()
    assert broker.calls == ["SIGSTOP", "SIGCONT"]


def test_fault_not_yet_due_does_nothing_when_stopped(tmp_path) -> None:
    broker, log = FakeBroker(), EventLog(tmp_path / "events.jsonl")
    fault = Fault(FaultSpec(name="f", action="broker_kill", at=3600, duration=1), log, {0: broker})
    fault.prepare(CLUSTER)
    fault.schedule(time.time())
    fault.start()
    fault.stop()
    assert broker.calls == [] and not log.path.exists()


def test_failed_recovery_surfaces_in_poll(tmp_path) -> None:
    fault = Fault(FaultSpec(name="f", action="broker_kill", at=0, duration=0.01),
                  EventLog(tmp_path / "e.jsonl"), {0: FakeBroker(fail_restart=True)})
    with pytest.raises(BrokerError, match="fault f: no luck"):
        _run(fault)


def test_broker_without_local_process_is_refused_at_prepare(tmp_path) -> None:
    remote = Cluster("10.0.0.5:9092", [BrokerHandle(0, "kafka-1", "10.0.0.5:9092")], "4.1.1")
    fault = Fault(FaultSpec(name="f", action="broker_kill", at=1, duration=1), EventLog(tmp_path / "e"), {})
    with pytest.raises(RunError, match="broker kafka-1 .* no process on this machine"):
        fault.prepare(remote)


def test_unknown_broker_is_refused_at_prepare(tmp_path) -> None:
    fault = Fault(FaultSpec(name="f", action="broker_kill", at=1, duration=1, broker=7), EventLog(tmp_path / "e"), {})
    with pytest.raises(RunError, match="no broker 7"):
        fault.prepare(CLUSTER)


@pytest.mark.integration
def test_killed_local_broker_comes_back_and_serves(tmp_path) -> None:
    broker = LocalKafka("4.1.1", tmp_path / "broker", heap=256 * 1024**2, properties={})
    cluster = broker.start()
    log = EventLog(tmp_path / "events.jsonl")
    try:
        old_pid = broker.pid
        _run(Fault(FaultSpec(name="kill", action="broker_kill", at=0, duration=1), log, {0: broker}), cluster)
        assert broker.pid not in (None, old_pid)
        admin = admin_client(broker.cluster())
        assert admin.describe_cluster(request_timeout=10).result(timeout=15).nodes
    finally:
        broker.stop()
    assert _kinds(log) == ["fault_start", "fault_end"]
