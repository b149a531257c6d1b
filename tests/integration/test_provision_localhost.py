"""A 3-broker KRaft cluster on this machine, provisioned by apply through the real playbooks and
ansible-runner, serving replicated load (RF 3, min.insync.replicas 2), watched by per-host iostat,
then destroyed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml
from confluent_kafka.admin import AdminClient

from orchestrator.execute.base import Cluster
from orchestrator.pipeline import Outcome, apply
from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import Plan
from orchestrator.progress import Progress
from orchestrator.provision import destroy, running_cluster
from orchestrator.rundir import RunDir
from tests.integration.ports import free_ports

pytestmark = pytest.mark.integration
HOSTS = ("b1", "b2", "b3")
LOAD_S = 6
SECRET = "s3cret-never-on-disk"


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
        "provision": {"heap": "256MiB", "os_tuning": False, "teardown": False,
                      "properties": {"offsets.topic.num.partitions": 3, "group.initial.rebalance.delay.ms": 0}},
        "topics": [{"name": "replicated", "partitions": 3, "replication_factor": 3, "min_insync_replicas": 2}],
        "workloads": [{"name": "p", "kind": "producer", "topic": "replicated", "rate": "100/s"},
                      {"name": "c", "kind": "consumer", "topic": "replicated", "drain": "5s"}],
        "phases": [{"name": "hold", "kind": "steady", "duration": f"{LOAD_S}s"}],
        "slos": [{"name": "nothing-lost", "metric": "consume.lost", "threshold": 0}],
        # librdkafka aborted the whole process twice here inside the admin monitor's consumer-group
        # offset requests against this 3-broker cluster; this test is about provisioning
        "monitors": {"kafka_admin": {"enabled": False}},
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


@dataclass
class Lab:
    plan: Plan
    plan_path: Path
    run: RunDir
    cluster: Cluster
    outcome: Outcome


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("provision-localhost")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        env.setenv("ORCHESTRATE_TEST_SASL_PASSWORD", SECRET)  # as a user exports it for the load clients
        plan_path = write_plan(root)
        plan = load_plan(plan_path)
        try:
            outcome = apply(plan, plan_path, root / "run", False, Progress())
            run = RunDir(root / "run")
            # the plan keeps the cluster after apply (teardown: false): ask it who runs where
            yield Lab(plan, plan_path, run, running_cluster(plan, plan_path, run), outcome)
        finally:
            destroy(plan, plan_path)


def test_apply_passes(lab: Lab) -> None:
    assert lab.outcome.exit_code() == 0, lab.outcome.headline()


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
    assert lab.outcome.summary is not None
    workloads = {w.name: w for w in lab.outcome.summary.workloads}
    assert workloads["p"].messages > 0
    assert workloads["c"].lost == 0 and workloads["c"].messages >= workloads["p"].messages


def test_iostat_output_fetched_per_broker_host(lab: Lab) -> None:
    for host in HOSTS:
        doc = json.loads((lab.run.raw / "iostat" / f"{host}.json").read_text())
        assert doc["sysstat"]["hosts"][0]["statistics"], host


def test_timeline_has_disk_series_per_broker_host(lab: Lab) -> None:
    header = lab.run.timeline_csv.read_text().splitlines()[0]
    assert all(f"disk.util[host={host}" in header for host in HOSTS)


def test_exported_secret_never_reaches_ansible_artifacts(lab: Lab) -> None:
    files = [p for p in lab.run.ansible_dir.rglob("*") if p.is_file()]
    assert any(p.name == "command" for p in files)
    assert not [p for p in files if SECRET in p.read_text(errors="replace")]


def test_destroy_leaves_no_kafka_process_and_no_data(lab: Lab) -> None:
    pids = [b.pid for b in lab.cluster.brokers]
    destroy(lab.plan, lab.plan_path)
    assert not [pid for pid in pids if psutil.pid_exists(pid)]
    assert not [h.data_dir for h in lab.plan.inventory.hosts if (Path(h.data_dir) / "kafka").exists()]
