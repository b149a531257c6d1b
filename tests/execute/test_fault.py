from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from orchestrator.errors import BrokerError, ProvisionError, RunError
from orchestrator.events import EventLog
from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.execute.fault import ScheduledFault
from orchestrator.execute.faults.brokers import AnsibleBroker
from orchestrator.execute.local_kafka import LocalKafka, free_port
from orchestrator.execute.topics import admin_client
from orchestrator.plan.models import Fault as FaultSpec
from orchestrator.remote.ansible import PlaybookResult, run_playbook


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


def _run(fault: ScheduledFault, cluster: Cluster = CLUSTER) -> None:
    fault.prepare(cluster)
    fault.schedule(time.time())
    fault.start()
    try:
        for _ in range(1200):  # up to a minute: an Ansible step on a loaded machine
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
    _run(ScheduledFault(FaultSpec(name="f", action=action, at=0, duration=0.01), log, {0: broker}))
    assert broker.calls == calls
    assert _kinds(log) == ["fault_start", "fault_end"]


def test_stop_recovers_a_paused_broker_early(tmp_path) -> None:
    broker, log = FakeBroker(), EventLog(tmp_path / "events.jsonl")
    fault = ScheduledFault(FaultSpec(name="f", action="broker_pause", at=0, duration=3600), log, {0: broker})
    fault.prepare(CLUSTER)
    fault.schedule(time.time())
    fault.start()
    while not broker.calls:
        time.sleep(0.01)
    fault.stop()
    assert broker.calls == ["SIGSTOP", "SIGCONT"]


def test_fault_not_yet_due_does_nothing_when_stopped(tmp_path) -> None:
    broker, log = FakeBroker(), EventLog(tmp_path / "events.jsonl")
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=3600, duration=1), log, {0: broker})
    fault.prepare(CLUSTER)
    fault.schedule(time.time())
    fault.start()
    fault.stop()
    assert broker.calls == [] and not log.path.exists()


def test_failed_recovery_surfaces_in_poll(tmp_path) -> None:
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=0, duration=0.01),
                  EventLog(tmp_path / "e.jsonl"), {0: FakeBroker(fail_restart=True)})
    with pytest.raises(BrokerError, match="fault f: no luck"):
        _run(fault)


def test_broker_without_local_process_is_refused_at_prepare(tmp_path) -> None:
    remote = Cluster("10.0.0.5:9092", [BrokerHandle(0, "kafka-1", "10.0.0.5:9092")], "4.1.1")
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=1, duration=1), EventLog(tmp_path / "e"), {})
    with pytest.raises(RunError, match="broker kafka-1 .* no process on this machine"):
        fault.prepare(remote)


class FakeProvisioner:
    """Stands in for HostPlaybooks.run: records each fault.yml step and reports when it took effect
    (a second after it was asked, as if the playbook's startup took that long)."""

    def __init__(self, answers: bool = True):
        self.steps: list[tuple[str, str, dict[str, object]]] = []
        self.effect: list[float] = []
        self.asked: list[float] = []
        self.answers = answers

    def run(self, playbook: str, ident: str, extravars: dict[str, object] | None = None) -> PlaybookResult:
        self.steps.append((playbook, ident, dict(extravars or {})))
        self.asked.append(time.time())
        self.effect.append(time.time() + 1.0)
        facts = {"kafka-1": {"kafka_fault_at": str(self.effect[-1])}} if self.answers else {}
        return PlaybookResult(playbook, facts=facts)


REMOTE = Cluster("10.0.0.5:9092", [BrokerHandle(1, "kafka-1", "10.0.0.5:9092")], "4.1.1")


def _events(log: EventLog) -> list[dict]:
    return [json.loads(line) for line in log.path.read_text().splitlines()]


def test_remote_broker_is_prepared_as_an_ansible_broker(tmp_path) -> None:
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=1, duration=1, broker="kafka-1"),
                  EventLog(tmp_path / "e"), {}, FakeProvisioner())  # type: ignore[arg-type]
    fault.prepare(REMOTE)
    assert isinstance(fault.action.process, AnsibleBroker)


@pytest.mark.parametrize("action, steps", [
    ("broker_kill", [("signal", "KILL"), ("start", None)]),
    ("broker_stop", [("signal", "TERM"), ("start", None)]),
    ("broker_pause", [("signal", "STOP"), ("signal", "CONT")]),
])
def test_remote_fault_runs_the_fault_playbook_steps_on_the_named_host(tmp_path, action, steps) -> None:
    provisioner = FakeProvisioner()
    _run(ScheduledFault(FaultSpec(name="f", action=action, at=0, duration=0.01, broker=1), EventLog(tmp_path / "e"), {},
               provisioner), REMOTE)  # type: ignore[arg-type]
    assert [(v["kafka_fault_action"], v.get("kafka_fault_signal")) for _, _, v in provisioner.steps] == steps
    assert {(p, v["fault_host"]) for p, _, v in provisioner.steps} == {("fault.yml", "kafka-1")}
    assert len({ident for _, ident, _ in provisioner.steps}) == len(steps)  # artifacts side by side


def test_remote_fault_events_carry_the_times_the_host_reported(tmp_path) -> None:
    provisioner, log = FakeProvisioner(), EventLog(tmp_path / "events.jsonl")
    _run(ScheduledFault(FaultSpec(name="f", action="broker_kill", at=0, duration=0.01, broker=1), log, {},
               provisioner), REMOTE)  # type: ignore[arg-type]
    start, end = _events(log)
    assert (start["kind"], start["ts"]) == ("fault_start", provisioner.effect[0])
    assert (end["kind"], end["ts"]) == ("fault_end", provisioner.effect[1])
    assert end["detail"].endswith(f"recovered after {provisioner.effect[1] - provisioner.effect[0]:.1f}s")


def test_remote_steps_are_launched_ahead_and_due_at_the_fault_schedule(tmp_path) -> None:
    provisioner = FakeProvisioner()
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=20, duration=0.01, broker=1), EventLog(tmp_path / "e"),
                  {}, provisioner)  # type: ignore[arg-type]
    _run(fault, REMOTE)
    assert fault.start_at is not None
    signal_due, start_due = (v["kafka_fault_due"] for _, _, v in provisioner.steps)
    assert signal_due == fault.start_at + 20 and provisioner.asked[0] < signal_due  # within LEAD_S
    assert start_due == provisioner.effect[0] + 0.01  # the reported kill time plus the duration


def test_remote_step_that_no_host_ran_fails_naming_the_host_and_step(tmp_path) -> None:
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=0, duration=0.01, broker=1),
                  EventLog(tmp_path / "e"), {}, FakeProvisioner(answers=False))  # type: ignore[arg-type]
    with pytest.raises(ProvisionError, match="host kafka-1: task 'fault.yml signal'"):
        _run(fault, REMOTE)


def test_unknown_broker_is_refused_at_prepare(tmp_path) -> None:
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=1, duration=1, broker=7), EventLog(tmp_path / "e"), {})
    with pytest.raises(RunError, match="no broker 7"):
        fault.prepare(CLUSTER)


@pytest.mark.integration
def test_killed_local_broker_comes_back_on_its_port_and_serves(tmp_path) -> None:
    broker = LocalKafka("4.1.1", tmp_path / "broker", heap=256 * 1024**2, properties={})
    cluster = broker.start()
    log = EventLog(tmp_path / "events.jsonl")
    try:
        old_pid = broker.pid
        _run(ScheduledFault(FaultSpec(name="kill", action="broker_kill", at=0, duration=1), log, {0: broker}), cluster)
        assert broker.pid not in (None, old_pid)
        assert broker.cluster().bootstrap_servers == cluster.bootstrap_servers
        admin = admin_client(broker.cluster())
        assert admin.describe_cluster(request_timeout=10).result(timeout=15).nodes
    finally:
        broker.stop()
    assert _kinds(log) == ["fault_start", "fault_end"]


SERVICE_SCRIPT = """#!/bin/sh
# Stands in for the provisioning playbooks' kafka-service.sh: 'start' runs a listener, writes the pidfile.
HOME_DIR="$(dirname "$0")/.."
[ "$1" = start ] || exit 2
nohup setsid {python} -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(600)" >/dev/null 2>&1 &
echo $! > "$HOME_DIR/kafka.pid"
"""


def test_provisioned_local_broker_is_killed_and_restarted_through_its_service_script(tmp_path) -> None:
    port = free_port()
    home = tmp_path / "kafka"
    (home / "bin").mkdir(parents=True)
    script = home / "bin" / "kafka-service.sh"
    script.write_text(SERVICE_SCRIPT.format(python=sys.executable, port=port))
    script.chmod(0o755)
    subprocess.run([str(script), "start"], check=True, timeout=30)
    first = int((home / "kafka.pid").read_text())
    handle = BrokerHandle(2, "broker-2", f"127.0.0.1:{port}", pid=first, data_dir=home)
    cluster = Cluster(f"127.0.0.1:{port}", [handle], "4.1.1")
    log = EventLog(tmp_path / "events.jsonl")
    try:
        _run(ScheduledFault(FaultSpec(name="k", action="broker_kill", at=0, duration=0.01, broker="broker-2"), log, {}), cluster)
        second = int((home / "kafka.pid").read_text())
        assert second != first
        os.kill(second, 0)
    finally:
        os.kill(int((home / "kafka.pid").read_text()), signal.SIGKILL)
    assert _kinds(log) == ["fault_start", "fault_end"]


class OneHostProvisioner:
    """HostPlaybooks.run over a one-host inventory on this machine (Ansible's local connection)."""

    def __init__(self, root, kafka_home) -> None:
        self.root = root
        self.inventory = {"all": {"children": {"kafka": {"hosts": {"kafka-1": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "kafka_home": str(kafka_home), "kafka_supervisor": "pidfile"}}}}}}

    def run(self, playbook: str, ident: str, extravars: dict[str, object] | None = None) -> PlaybookResult:
        return run_playbook(playbook, self.root / "ansible", self.inventory, extravars or {}, ident)


@pytest.mark.integration
def test_remote_signal_of_a_broker_that_is_not_running_fails_with_the_scripts_reason(tmp_path) -> None:
    home = tmp_path / "kafka"
    (home / "bin").mkdir(parents=True)
    script = home / "bin" / "kafka-service.sh"
    script.write_text('#!/bin/sh\n[ "$1" = at ] && exit 0\necho "Kafka is not running (pidfile x)" >&2\nexit 3\n')
    script.chmod(0o755)
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=0, duration=1, broker=1), EventLog(tmp_path / "e"), {},
                  OneHostProvisioner(tmp_path, home))  # type: ignore[arg-type]
    with pytest.raises(ProvisionError, match="host kafka-1: task 'Check that the Kafka process was signalled': "
                                             "Kafka is not running"):
        _run(fault, REMOTE)


class HostProvisioner(FakeProvisioner):
    """A FakeProvisioner whose network and disk steps report what the kafka role's would."""

    FACTS = {"check": {"kafka_fault_device": "eth0", "kafka_fault_ports": "[9092, 9093]", "kafka_fault_log_dir": "/k/logs"},
             "fill": {"kafka_fault_filled": {"written": 3 * 1024**2, "used": 0.9}},
             "unfill": {"kafka_pid": ""}}  # Kafka stopped under the full disk

    def run(self, playbook: str, ident: str, extravars: dict[str, object] | None = None) -> PlaybookResult:
        result = super().run(playbook, ident, extravars)
        result.facts["kafka-1"].update(self.FACTS.get(str((extravars or {})["kafka_fault_action"]), {}))
        return result


def test_remote_partition_checks_the_host_then_drops_the_cluster_ports_both_ways_and_removes_the_chain(tmp_path) -> None:
    provisioner = HostProvisioner()
    _run(ScheduledFault(FaultSpec(name="cut", action="network_partition", at=0, duration=0.01, broker=1),
                        EventLog(tmp_path / "e"), {}, provisioner), REMOTE)  # type: ignore[arg-type]
    (_, _, check), (_, _, inject), (_, _, recover) = provisioner.steps
    assert [n["what"] for n in check["kafka_fault_needs"]] == ["root privileges", "iptables"]  # type: ignore[union-attr]
    assert check["kafka_fault_needed_by"] == "network_partition"
    lines = str(inject["kafka_fault_script"]).splitlines()
    assert "iptables -w -t mangle -I INPUT 1 ! -i lo -j orch-cut" in lines
    assert "iptables -w -t mangle -A orch-cut -p tcp --dport 9093 -j DROP" in lines
    assert (inject["kafka_fault_action"], recover["kafka_fault_action"]) == ("script", "script")
    assert not any(" -A " in line or " -N " in line for line in str(recover["kafka_fault_script"]).splitlines())


def test_remote_full_disk_fills_the_hosts_log_dir_and_restarts_a_broker_that_stopped(tmp_path) -> None:
    provisioner, log = HostProvisioner(), EventLog(tmp_path / "e")
    _run(ScheduledFault(FaultSpec(name="full", action="disk_full", at=0, duration=0.01, broker=1, fill_to=0.9),
                        log, {}, provisioner), REMOTE)  # type: ignore[arg-type]
    assert [v["kafka_fault_action"] for _, _, v in provisioner.steps] == ["check", "fill", "unfill", "start"]
    fill = provisioner.steps[1][2]
    assert (fill["kafka_fault_path"], fill["kafka_fault_fill_to"]) == ("/k/logs/.orchestrate-fill-full", 0.9)
    start, end = _events(log)
    assert start["detail"].endswith("(3 MiB in /k/logs/.orchestrate-fill-full, file system 90% used)")
    assert end["detail"].endswith("(file removed, broker restarted)")
