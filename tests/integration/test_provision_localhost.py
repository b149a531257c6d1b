"""A 3-broker KRaft cluster on this machine, provisioned through the real playbooks and
ansible-runner, serving replicated load (RF 3, min.insync.replicas 2), watched by per-host iostat,
then destroyed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml
from confluent_kafka.admin import AdminClient

from orchestrator.execute.base import Cluster
from orchestrator.execute.remote_iostat import RemoteIostat
from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import Plan
from orchestrator.provision import cluster_for, destroy, stop
from orchestrator.rundir import RunDir

pytestmark = pytest.mark.integration
HOSTS = ("b1", "b2", "b3")
LOAD_S = 6
SECRET = "s3cret-never-on-disk"


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def write_plan(root: Path) -> Path:
    ports = free_ports(2 * len(HOSTS))
    hosts = [{"name": name, "address": "127.0.0.1", "roles": ["broker"], "connection": "local",
              "kafka_port": ports[2 * i], "controller_port": ports[2 * i + 1], "data_dir": str(root / name)}
             for i, name in enumerate(HOSTS)]
    plan = {
        "metadata": {"name": "provision-localhost"},
        "target": {"kind": "provisioned"},
        "inventory": {"hosts": hosts},
        # a small offsets topic and no rebalance delay: the consumer group forms quickly on 2 cores
        "provision": {"heap": "256MiB", "os_tuning": False,
                      "properties": {"offsets.topic.num.partitions": 3, "group.initial.rebalance.delay.ms": 0}},
        "topics": [{"name": "replicated", "partitions": 3, "replication_factor": 3, "min_insync_replicas": 2}],
        "workloads": [{"name": "p", "kind": "producer", "topic": "replicated", "rate": "500/s"},
                      {"name": "c", "kind": "consumer", "topic": "replicated"}],
        "phases": [{"name": "hold", "kind": "steady", "duration": f"{LOAD_S}s"}],
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def runner_spec(cluster: Cluster, run: RunDir, role: str, start_at: float) -> Path:
    output = run.raw_source("native") / f"{role}-0.jsonl"
    spec = {"workload": role, "instance": 0, "role": role, "host": "localhost",
            "bootstrap_servers": cluster.bootstrap_servers, "topic": "replicated", "output": str(output),
            "start_at": start_at, "client_config": {"acks": "all"} if role == "producer" else {},
            "schedule": [{"name": "hold", "kind": "steady", "duration_s": LOAD_S,
                          "rate_from": 500 if role == "producer" else None,
                          "rate_to": 500 if role == "producer" else None}]}
    if role == "consumer":
        spec.update(group="provision-test", drain_s=3, drain_max_s=90)
    path = run.rendered / f"{role}.json"
    path.write_text(json.dumps(spec))
    return path


def create_topic(plan: Plan, cluster: Cluster) -> None:
    from confluent_kafka.admin import NewTopic

    topic = plan.topics[0]
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap_servers})
    futures = admin.create_topics([NewTopic(topic.name, topic.partitions, topic.replication_factor,
                                            config=topic.kafka_configs())])
    for future in futures.values():
        future.result(timeout=30)


def end_record(path: Path) -> dict:
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["type"] == "end"][-1]


@dataclass
class Lab:
    plan: Plan
    plan_path: Path
    run: RunDir
    cluster: Cluster
    produced: dict
    consumed: dict


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("provision-localhost")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        env.setenv("ORCHESTRATE_TEST_SASL_PASSWORD", SECRET)  # as a user exports it for the load clients
        plan_path = write_plan(root)
        plan = load_plan(plan_path)
        run = RunDir.create(plan.metadata.name, base=root / "runs")
        try:
            cluster = cluster_for(plan, plan_path, run)
            create_topic(plan, cluster)
            iostat = RemoteIostat(plan, plan_path, run)
            iostat.prepare(cluster)
            iostat.start()
            start_at = time.time() + 2
            procs = [subprocess.Popen([sys.executable, "-m", "orchestrator.runner",
                                       str(runner_spec(cluster, run, role, start_at))])
                     for role in ("consumer", "producer")]
            codes = [p.wait(timeout=120) for p in procs]
            iostat.stop()
            assert codes == [0, 0]
            native = run.raw / "native"
            yield Lab(plan, plan_path, run, cluster, end_record(native / "producer-0.jsonl"),
                      end_record(native / "consumer-0.jsonl"))
        finally:
            stop(plan, plan_path, run)
            destroy(plan, plan_path)


def test_every_broker_hosts_replicas_and_leads(lab: Lab) -> None:
    metadata = AdminClient({"bootstrap.servers": lab.cluster.bootstrap_servers}).list_topics(timeout=30)
    partitions = metadata.topics["replicated"].partitions.values()
    assert sorted(metadata.brokers) == [1, 2, 3]
    assert all(sorted(p.replicas) == [1, 2, 3] and sorted(p.isrs) == [1, 2, 3] for p in partitions)
    assert {p.leader for p in partitions} == {1, 2, 3}


def test_cluster_handle_names_each_local_broker_process(lab: Lab) -> None:
    assert [(b.node_id, b.host) for b in lab.cluster.brokers] == [(1, "b1"), (2, "b2"), (3, "b3")]
    assert all(b.pid is not None and "kafka.Kafka" in psutil.Process(b.pid).cmdline() for b in lab.cluster.brokers)


def test_nothing_acknowledged_was_lost(lab: Lab) -> None:
    assert lab.produced["acked"] > 0 and lab.produced["errors"] == 0
    assert lab.consumed["seen_ranges"] == lab.produced["acked_ranges"]


def test_iostat_output_fetched_per_broker_host(lab: Lab) -> None:
    for host in HOSTS:
        doc = json.loads((lab.run.raw / "iostat" / f"{host}.json").read_text())
        assert doc["sysstat"]["hosts"][0]["statistics"], host


def test_exported_secret_never_reaches_ansible_artifacts(lab: Lab) -> None:
    files = [p for p in lab.run.ansible_dir.rglob("*") if p.is_file()]
    assert any(p.name == "command" for p in files)
    assert not [p for p in files if SECRET in p.read_text(errors="replace")]


def test_destroy_leaves_no_kafka_process_and_no_data(lab: Lab) -> None:
    pids = [b.pid for b in lab.cluster.brokers]
    stop(lab.plan, lab.plan_path, lab.run)
    destroy(lab.plan, lab.plan_path)
    assert not [pid for pid in pids if psutil.pid_exists(pid)]
    assert not [h.data_dir for h in lab.plan.inventory.hosts if (Path(h.data_dir) / "kafka").exists()]
