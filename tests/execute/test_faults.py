"""The fault actions without a real cluster: the registry, the undo on every path, the rolling
order, the decommission plan, the fill file and the reassignment request."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.events import EventLog
from orchestrator.execute import fault as fault_module
from orchestrator.execute.fault import ScheduledFault
from orchestrator.execute.faults import FAULTS, rolling
from orchestrator.execute.faults.base import Effect, FaultAction
from orchestrator.execute.faults.decommission import _without
from orchestrator.execute.faults.brokers import Brokers
from orchestrator.execute.faults.fill import allocate
from orchestrator.execute.faults.hosts import FaultHost, HostFacts
from orchestrator.execute.faults.network import ClusterPorts, NetworkPartition, chain_name
from orchestrator.execute.local_kafka import free_port
from orchestrator.execute.log_dirs import Reader
from orchestrator.execute.reassign import request_body
from orchestrator.plan.faults import ACTIONS, cgroup2_root
from orchestrator.plan.models import Fault as FaultSpec


def test_every_action_the_plan_accepts_has_exactly_one_implementation() -> None:
    assert set(FAULTS) == set(ACTIONS)


class Recorder(FaultAction):
    """An action that records its steps, failing in the one named by ``fail``."""

    fail = ""
    steps: list[str] = []

    def _step(self, name: str) -> Effect:
        self.steps.append(name)
        if name == self.fail:
            raise RuntimeError(f"{name} broke")
        return Effect(time.time())

    def inject(self, due: float) -> Effect:
        return self._step("inject")

    def settle(self, deadline, cancel):
        self._step("settle")
        return None

    def recover(self, due: float) -> Effect:
        return self._step("recover")


CLUSTER = Cluster("127.0.0.1:1", [BrokerHandle(0, "localhost", "127.0.0.1:1", pid=42)], "4.1.1")


def _fault(monkeypatch, tmp_path, fail: str = "", at: float = 0, duration: float = 0.01) -> tuple[ScheduledFault, EventLog]:
    Recorder.fail, Recorder.steps = fail, []
    monkeypatch.setitem(fault_module.FAULTS, "broker_kill", Recorder)
    log = EventLog(tmp_path / "events.jsonl")
    fault = ScheduledFault(FaultSpec(name="f", action="broker_kill", at=at, duration=duration), log, {})
    fault.prepare(CLUSTER)
    fault.schedule(time.time())
    fault.start()
    return fault, log


def _wait(fault: ScheduledFault) -> None:
    for _ in range(200):
        try:
            if not fault.poll():
                return
        except Exception:  # noqa: BLE001 - a failed fault is done too
            return
        time.sleep(0.05)


def _kinds(log: EventLog) -> list[str]:
    return [json.loads(line)["kind"] for line in log.path.read_text().splitlines()] if log.path.exists() else []


@pytest.mark.parametrize("fail", ["inject", "settle"])
def test_a_failed_step_is_undone_and_reported(monkeypatch, tmp_path, fail: str) -> None:
    fault, _ = _fault(monkeypatch, tmp_path, fail=fail)
    _wait(fault)
    assert Recorder.steps[-1] == "recover"
    with pytest.raises(Exception, match=f"fault f: {fail} broke"):
        fault.poll()


def test_a_stopped_run_undoes_the_fault_at_once_and_records_its_end(monkeypatch, tmp_path) -> None:
    fault, log = _fault(monkeypatch, tmp_path, duration=3600)
    while "settle" not in Recorder.steps:
        time.sleep(0.01)
    began = time.time()
    fault.stop()
    assert Recorder.steps == ["inject", "settle", "recover"] and time.time() - began < 60
    assert _kinds(log) == ["fault_start", "fault_end"]


class FakeBroker:
    def __init__(self, name: str, calls: list[str]):
        self.name, self.calls, self.pid = name, calls, 1

    def signal(self, signum: int) -> None:
        self.calls.append(f"{self.name}:{signal.Signals(signum).name}")

    def wait_exit(self, timeout: float) -> bool:
        return True

    def restart(self) -> None:
        self.calls.append(f"{self.name}:start")


def test_rolling_restart_takes_one_broker_at_a_time_waiting_for_the_isr(monkeypatch, tmp_path) -> None:
    calls: list[str] = []
    monkeypatch.setattr(rolling, "fully_replicated", lambda cluster: lambda: calls.append("in-sync") or True)
    handles = [BrokerHandle(i, f"b{i}", f"127.0.0.1:{i}", pid=i) for i in (1, 2, 3)]
    local = {i: FakeBroker(f"b{i}", calls) for i in (1, 2, 3)}
    log = EventLog(tmp_path / "events.jsonl")
    fault = ScheduledFault(FaultSpec(name="r", action="rolling_restart", at=0, duration=0.01), log, local)  # type: ignore[arg-type]
    fault.prepare(Cluster("127.0.0.1:1", handles, "4.1.1"))
    fault.schedule(time.time())
    fault.start()
    _wait(fault)
    fault.stop()
    assert calls == ["in-sync", *(c for i in (1, 2, 3) for c in (f"b{i}:SIGTERM", f"b{i}:start", "in-sync"))]
    end = [json.loads(line) for line in log.path.read_text().splitlines()][-1]
    assert end["kind"] == "fault_end" and end["detail"].endswith("(3 brokers restarted)")


def test_decommission_replaces_the_broker_by_the_least_loaded_other_or_drops_it() -> None:
    current = {("a", 0): [1, 2], ("a", 1): [2, 3], ("b", 0): [3, 1], ("c", 0): [2, 1, 3], ("d", 0): [1, 2]}
    moved = _without(current, 2, [1, 2, 3, 4])
    assert moved == {("a", 0): [1, 4], ("a", 1): [4, 3], ("c", 0): [4, 1, 3], ("d", 0): [1, 3]}
    assert _without({("c", 0): [2, 1, 3]}, 2, [1, 2, 3]) == {("c", 0): [1, 3]}  # RF 3 on 3 brokers: one fewer


def test_the_fill_file_takes_real_blocks_up_to_what_was_asked(tmp_path) -> None:
    path = tmp_path / "fill"
    assert allocate(path, 3 * 1024**2) == 3 * 1024**2
    assert os.stat(path).st_blocks * 512 >= 3 * 1024**2


def test_the_reassignment_request_lists_each_topic_once_with_its_partitions() -> None:
    reader = Reader(request_body({("t", 1): [3, 1], ("t", 0): [1, 3], ("u", 0): [2]}, 30_000))
    assert reader.take(">i") == 30_000
    topics = []
    for _ in range(reader.compact_count()):
        name, partitions = reader.compact_string(), []
        for _ in range(reader.compact_count()):
            index = reader.take(">i")
            partitions.append((index, [reader.take(">i") for _ in range(reader.compact_count())]))
            reader.skip_tags()
        reader.skip_tags()
        topics.append((name, partitions))
    reader.skip_tags()
    assert topics == [("t", [(0, [1, 3]), (1, [3, 1])]), ("u", [(0, [2])])]
    assert reader.pos == len(reader.data)


LISTENER = """import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", {port})); s.listen()
s.settimeout(0.2)
end = time.time() + 120
while time.time() < end:
    try:
        s.accept()[0].close()
    except OSError:
        pass
"""


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.integration  # real iptables rules and a real cgroup on this machine
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("iptables") is None or cgroup2_root() is None,
                    reason="needs root, iptables and a cgroup v2 hierarchy")
def test_a_partitioned_process_is_unreachable_until_its_rules_and_cgroup_are_removed() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", LISTENER.format(port=port)])
    try:
        for _ in range(100):
            if _connects(port):
                break
            time.sleep(0.1)
        home = Path(f"/proc/{proc.pid}/cgroup").read_text()
        cluster = Cluster(f"127.0.0.1:{port}", [BrokerHandle(1, "localhost", f"127.0.0.1:{port}", pid=proc.pid)], "4.1.1")
        local = {1: SimpleNamespace(pid=proc.pid)}
        fault = NetworkPartition(FaultSpec(name="unit-cut", action="network_partition", at=0, duration=1, broker=1),
                                 Brokers(cluster, local, None, "unit-cut"))  # type: ignore[arg-type]
        fault.prepare()
        try:
            fault.inject(time.time())
            assert not _connects(port)
            assert Path(f"/proc/{proc.pid}/cgroup").read_text() != home
        finally:
            fault.recover(time.time())
        assert _connects(port)
        rules = subprocess.run(["iptables", "-w", "-t", "mangle", "-S"], capture_output=True, text=True).stdout
        assert chain_name("unit-cut") not in rules
        assert fault.selection is not None and not fault.selection.cgroup.exists()  # type: ignore[attr-defined]
        assert Path(f"/proc/{proc.pid}/cgroup").read_text() == home
    finally:
        proc.kill()
        proc.wait()


class NamespaceHost(FaultHost):
    """A broker host of the test's own: its scripts run in a network namespace with one veth."""

    remote = True

    def __init__(self, netns: str):
        self.netns = netns

    def check(self, action, needs):
        return HostFacts("vx0", (9092, 9093), None)

    def run(self, lines, due, label):
        subprocess.run(["ip", "netns", "exec", self.netns, "sh", "-ec", "\n".join(lines)], check=True, timeout=30)
        return time.time()

    def fill(self, path, fill_to, due):
        raise NotImplementedError

    unfill = fill

    def show(self, *command: str) -> str:
        return subprocess.run(["ip", "netns", "exec", self.netns, *command], capture_output=True, text=True,
                              check=True).stdout


@pytest.mark.integration  # real iptables rules and qdiscs, in a network namespace this test makes
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("iptables") is None or shutil.which("tc") is None,
                    reason="needs root, iptables and tc")
@pytest.mark.parametrize(("action", "params", "hooks", "verdicts"), [
    ("network_partition", {}, ["-A INPUT ! -i lo -j orch-f", "-A OUTPUT ! -o lo -j orch-f"], 1),
    ("network_degrade", {"loss": 0.01, "bandwidth": 1_000_000}, ["-A OUTPUT ! -o lo -j orch-f"], 2),  # DROP, CLASSIFY
])
def test_a_broker_hosts_rules_select_the_cluster_ports_replace_leftovers_and_go_away(action, params, hooks,
                                                                                      verdicts) -> None:
    netns = f"orchf{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        host = NamespaceHost(netns)
        host.show("ip", "link", "add", "vx0", "type", "veth", "peer", "name", "vx1")
        host.show("ip", "link", "set", "vx0", "up")
        fault = FAULTS[action](FaultSpec(name="f", action=action, at=0, duration=1, **params), None)  # type: ignore[arg-type]
        fault.host, fault.selection = host, ClusterPorts(host.check(action, ()))  # type: ignore[attr-defined]
        fault.inject(time.time())
        fault.inject(time.time())  # a killed run's rules of the same name are replaced, not doubled
        rules = host.show("iptables", "-w", "-t", "mangle", "-S")
        assert sorted(line for line in rules.splitlines() if "-j orch-f" in line) == hooks
        assert rules.count("--sport 9093") == rules.count("--dport 9092") == verdicts
        assert ("htb 1: root" in host.show("tc", "qdisc", "show", "dev", "vx0")) == (action == "network_degrade")
        fault.recover(time.time())
        fault.recover(time.time())
        assert "orch-f" not in host.show("iptables", "-w", "-t", "mangle", "-S")
        assert host.show("tc", "qdisc", "show", "dev", "vx0").startswith("qdisc noqueue 0: root")
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=True)
