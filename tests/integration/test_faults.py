"""The fault actions against one 3-broker KRaft cluster on loopback, provisioned once through the
real playbooks and shared: with acks=all, idempotence, replication factor 3 and min.insync.replicas
2, no fault loses or duplicates anything (the consumers' sequence audit), each one's start and end
are in the events, and afterwards nothing of it is left (the fill file, the iptables chain, the
cgroup, the qdisc; every broker back in every ISR). broker-2's log dir is a small tmpfs of its own,
so that a full disk fills that and not this machine's disk.

Provisioning and reporting dominate on this machine (a provision.yml run takes over a minute), so
the broker faults share one apply, one after the other, and that apply provisions the lab; the two
network example plans are applied to the same cluster, shortened, with provisioning skipped (the
provisioned cluster's handle is handed to them)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml
from confluent_kafka.admin import AdminClient

from orchestrator import provision as provision_module
from orchestrator.cli import main
from orchestrator.cluster import Cluster
from orchestrator.execute.faults.disk import fill_name
from orchestrator.execute.faults.network import cgroup_name, chain_name
from orchestrator.plan.faults import cgroup2_root
from orchestrator.plan.loader import load_plan
from orchestrator.provision import cluster_for, destroy
from tests.integration.ports import free_ports

pytestmark = pytest.mark.integration
HOSTS = ("broker-1", "broker-2", "broker-3")
FAULTED = "broker-2"  # node id 2
TMPFS = "96m"
PLANS = Path(__file__).resolve().parents[2] / "plans"


@dataclass
class Run:
    code: int
    summary: dict
    events: list[dict]

    def fault(self, name: str) -> tuple[dict, dict]:
        """The fault_start and fault_end of fault ``name``."""
        start, end = (next(e for e in self.events if e["kind"] == kind and e["name"] == name)
                      for kind in ("fault_start", "fault_end"))
        return start, end


@dataclass
class Lab:
    root: Path
    hosts: list[dict]
    broker_faults: Run

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{h['kafka_port']}" for h in self.hosts)

    def log_dir(self, host: str) -> Path:
        return self.root / host / "logs"

    def pid(self, host: str) -> int:
        return int((self.root / host / "kafka" / "kafka.pid").read_text())


# every plan applied to the lab names it and provisions it the same way; a small offsets topic, no
# rebalance delay and a fast fence: the group forms and a lost broker's partitions move on quickly
NAME = "faults-lab"
PROVISION = {"heap": "256MiB", "os_tuning": False, "teardown": False,
             "properties": {"offsets.topic.num.partitions": 3, "offsets.topic.replication.factor": 3,
                            "group.initial.rebalance.delay.ms": 0, "min.insync.replicas": 2,
                            "broker.session.timeout.ms": 4000, "broker.heartbeat.interval.ms": 1000,
                            "replica.lag.time.max.ms": 5000}}
# one after the other: the rolling restart first, on a healthy cluster (a broker restart takes 20 to
# 40 s here, depending on the machine's load), then the two faults on broker-2
BROKER_FAULTS = [
    {"name": "rolling", "action": "rolling_restart", "at": "2s", "duration": "120s"},
    {"name": "decom", "action": "decommission", "broker": FAULTED, "at": "124s", "duration": "4s"},
    {"name": "disk", "action": "disk_full", "broker": FAULTED, "at": "130s", "duration": "4s"},
]


def _plan(hosts: list[dict], hold: str) -> dict:
    return {
        "metadata": {"name": NAME},
        "target": {"kind": "provisioned"},
        "inventory": {"hosts": hosts},
        "provision": PROVISION,
        "topics": [{"name": "t", "partitions": 3, "replication_factor": 3, "min_insync_replicas": 2,
                    "if_exists": "recreate", "delete_after": True}],
        "workloads": [{"name": "p", "kind": "producer", "topic": "t", "rate": "100/s", "acks": "all",
                       "idempotence": True, "message": {"size": "512B"},
                       "properties": {"delivery.timeout.ms": 120000}},
                      {"name": "c", "kind": "consumer", "topic": "t", "drain": "8s"}],
        "phases": [{"name": "hold", "kind": "steady", "duration": hold}],
        "faults": BROKER_FAULTS,
        "slos": [{"name": "nothing-lost", "metric": "consume.lost", "threshold": 0},
                 {"name": "no-duplicates", "metric": "consume.duplicated", "threshold": 0}],
        "monitors": {"iostat": {"enabled": False}, "kafka_admin": {"interval": "2s"}},
        "report": {"formats": []},
    }


def _apply(tmp_path: Path, plan: Path, *overrides: str) -> Run:
    run = tmp_path / "run"
    code = main(["apply", str(plan), "--run-dir", str(run), *(a for o in overrides for a in ("--set", o))])
    events = [json.loads(line) for line in (run / "raw" / "events.jsonl").read_text().splitlines()]
    return Run(code, json.loads((run / "summary.json").read_text()), events)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("faults")
    ports = free_ports(2 * len(HOSTS))
    hosts = [{"name": name, "address": "127.0.0.1", "roles": ["broker", "controller"], "connection": "local",
              "kafka_port": ports[2 * i], "controller_port": ports[2 * i + 1], "data_dir": str(root / name)}
             for i, name in enumerate(HOSTS)]
    small = root / FAULTED / "logs"
    small.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS}", "tmpfs", str(small)], check=True)
    path = root / "broker-faults.yaml"
    path.write_text(yaml.safe_dump(_plan(hosts, "136s")))
    provisioned: list[Cluster] = []

    def once(*args: object, **kwargs: object) -> Cluster:
        if not provisioned:
            provisioned.append(cluster_for(*args, **kwargs))  # type: ignore[arg-type]
        return provisioned[0]

    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        env.setattr(provision_module, "cluster_for", once)
        try:
            yield Lab(root, hosts, _apply(root, path))
        finally:
            destroy(load_plan(path), path)
            subprocess.run(["umount", "-l", str(small)], check=False)


def _audit(run: Run) -> None:
    workloads = {w["name"]: w for w in run.summary["workloads"]}
    producer, consumer = (w for w in workloads.values() if w["kind"] in ("producer", "consumer"))
    assert producer["messages"] > 0 and producer["errors"] == 0
    assert consumer["lost"] == 0 and consumer["duplicated"] == 0
    assert consumer["messages"] >= producer["messages"]


def _all_in_sync(lab: Lab) -> bool:
    topics = AdminClient({"bootstrap.servers": lab.bootstrap}).list_topics(timeout=30).topics
    return all(sorted(p.isrs) == sorted(p.replicas) == [1, 2, 3]
               for t in topics.values() for p in t.partitions.values())


def _iptables_rules() -> str:
    return subprocess.run(["iptables", "-w", "-t", "mangle", "-S"], capture_output=True, text=True, check=True).stdout


def _lo_qdisc() -> str:
    return subprocess.run(["tc", "qdisc", "show", "dev", "lo"], capture_output=True, text=True, check=True).stdout


def test_the_broker_faults_lose_and_duplicate_nothing(lab: Lab) -> None:
    run = lab.broker_faults
    _audit(run)
    assert run.code == 0, {s["name"]: s["verdict"] for s in run.summary["slos"]}
    assert run.summary["run"]["status"] == "completed"
    for fault in BROKER_FAULTS:
        start, end = run.fault(fault["name"])
        assert start["ts"] < end["ts"], fault["name"]


def test_decommission_ends_when_the_replicas_moved_and_restores_them(lab: Lab) -> None:
    start, end = lab.broker_faults.fault("decom")
    assert "decommission broker broker-2" in start["detail"] and "partitions reassigned" in start["detail"]
    assert end["detail"].endswith("(no replica left on the broker)")
    assert _all_in_sync(lab)  # broker 2 holds its replicas again, every one in sync


def test_disk_full_fills_the_log_dir_and_removes_the_file_after(lab: Lab) -> None:
    start, end = lab.broker_faults.fault("disk")
    assert f"in {lab.log_dir(FAULTED) / fill_name('disk')}, file system 100% used" in start["detail"]
    assert not (lab.log_dir(FAULTED) / fill_name("disk")).exists()
    # the full disk failed the broker's log dir; it was started again once the space was back
    assert end["detail"].endswith("(file removed, broker restarted)")


def test_rolling_restart_restarts_every_broker_during_the_fault(lab: Lab) -> None:
    start, end = lab.broker_faults.fault("rolling")
    assert end["detail"].endswith("(3 brokers restarted)")
    started = {h: psutil.Process(lab.pid(h)).create_time() for h in HOSTS}
    # broker-2 was restarted once more since, by the disk fault
    assert all(start["ts"] <= started[h] <= end["ts"] for h in HOSTS if h != FAULTED), (start, started, end)
    assert started[FAULTED] >= lab.broker_faults.fault("disk")[0]["ts"]
    assert _all_in_sync(lab)


def _example(lab: Lab, tmp_path: Path, plan: str, *overrides: str) -> Run:
    """An example plan of plans/ applied to the lab's cluster instead of its own (its inventory
    replaced, agents included), shortened by ``overrides``."""
    def flow(value: object) -> str:
        return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()

    lab_cluster = (f"metadata.name={NAME}", f"inventory={flow({'hosts': lab.hosts})}", f"provision={flow(PROVISION)}",
                   "monitors.iostat.enabled=false", "report.formats=[]")
    return _apply(tmp_path, PLANS / plan, *lab_cluster, *overrides)


def _fault_example(lab: Lab, tmp_path: Path, plan: str, fault_phase: str, *overrides: str) -> Run:
    """A fault example (warm-up, a phase before the fault, the fault's phase): 2 s, 2 s and 14 s, the
    fault 5 s in for 7 s, at 200 msg/s."""
    short = ("phases.warmup.duration=2s", "phases.before.duration=2s", f"phases.{fault_phase}.duration=14s",
             "faults.0.at=5s", "faults.0.duration=7s", "workloads.0.rate=200/s", "workloads.1.drain=8s")
    return _example(lab, tmp_path, plan, *short, *overrides)


def _held_but_latency(run: Run) -> None:
    """The run completed and every SLO held, but latency ones: on a machine shared with the rest of
    the suite three brokers and the clients can be slow for a while (the full-length plans are
    judged as they are, by hand on a quiet machine)."""
    assert run.summary["run"]["status"] == "completed"
    failed = {s["name"]: s["observed"] for s in run.summary["slos"]
              if s["verdict"] != "pass" and "latency" not in s["metric"]}
    assert not failed and run.code in (0, 1), failed


def _in_sync_again(lab: Lab, within_s: float = 90.0) -> bool:
    deadline = time.monotonic() + within_s
    while not _all_in_sync(lab):
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def test_network_partition_plan_loses_nothing_and_leaves_no_rule(lab: Lab, tmp_path: Path) -> None:
    home = Path(f"/proc/{lab.pid(FAULTED)}/cgroup").read_text()
    run = _fault_example(lab, tmp_path, "network-partition.yaml", "fault-and-after", "slos.latency-recovers.sustained=5s")
    _audit(run)
    start, end = run.fault("partition-broker-2")
    assert "every packet dropped" in start["detail"] and end["detail"].endswith("(rules removed)")
    assert {s["name"]: s["verdict"] for s in run.summary["slos"]}["nothing-lost"] == "pass"
    assert run.summary["run"]["status"] == "completed"
    assert chain_name("partition-broker-2") not in _iptables_rules()
    root = cgroup2_root()
    assert root is not None and not (root / cgroup_name("partition-broker-2")).exists()
    assert Path(f"/proc/{lab.pid(FAULTED)}/cgroup").read_text() == home


def test_degraded_network_plan_loses_nothing_and_leaves_no_rule_or_qdisc(lab: Lab, tmp_path: Path) -> None:
    run = _fault_example(lab, tmp_path, "degraded-network.yaml", "fault-and-after")
    _audit(run)
    start, end = run.fault("degrade-broker-2")
    assert "loss 2.00%, bandwidth 2097152 B/s" in start["detail"] and end["detail"].endswith("(rules and qdisc removed)")
    assert run.summary["run"]["status"] == "completed"
    assert chain_name("degrade-broker-2") not in _iptables_rules() and "htb" not in _lo_qdisc()


def test_broker_failure_recovery_plan_passes_and_the_killed_broker_rejoins(lab: Lab, tmp_path: Path) -> None:
    run = _fault_example(lab, tmp_path, "broker-failure-recovery.yaml", "failure-and-recovery",
                         "slos.latency-recovers.sustained=5s")
    _audit(run)
    _held_but_latency(run)
    start, end = run.fault("kill-broker-2")
    assert start["ts"] < end["ts"] and start["detail"].startswith("broker_kill broker broker-2")
    assert _in_sync_again(lab)


@pytest.mark.parametrize("plan", ["multi-broker-cluster.yaml", "vagrant-lab.yaml", "existing-inventory.yaml"])
def test_cluster_example_plans_pass_on_the_lab_with_their_agent_on_this_machine(lab: Lab, tmp_path: Path,
                                                                                plan: str) -> None:
    # their own inventories name hosts of a lab elsewhere (or this machine's ports the lab does not
    # use): the plan's topics, load, phases and SLOs run on this lab, its agent's instances here
    data = yaml.safe_load((PLANS / plan).read_text())
    agentless = [f"workloads.{w['name']}.agents=[]" for w in data["workloads"] if w.get("agents")]
    assert agentless, plan
    run = _example(lab, tmp_path, plan, *agentless, "phases.warmup.duration=2s", "phases.steady.duration=10s",
                   f"workloads.{data['workloads'][0]['name']}.rate=500/s")
    _audit(run)
    _held_but_latency(run)
