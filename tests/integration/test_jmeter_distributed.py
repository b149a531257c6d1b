"""JMeter's distributed mode for real: two agent hosts on this machine (connection local, their own
directories and RMI ports) each run a jmeter-server started through playbooks/jmeter.yml; bzt on
this machine is the controller. The plan's target is the session's broker."""

from __future__ import annotations

import csv
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

from orchestrator.execute.base import Cluster
from orchestrator.jmeter import distributed
from orchestrator.jmeter.distributed import distribution
from orchestrator.jmeter.servers import JmeterServers
from orchestrator.pipeline import Outcome, apply
from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import Plan
from orchestrator.progress import Progress
from orchestrator.rundir import RunDir

pytestmark = pytest.mark.integration
AGENTS = ("a1", "a2")
RATE = 40
LOAD_S = 5
SECRET_ENV = "ORCHESTRATE_TEST_JMETER_SECRET"
SECRET = "jm3ter-s3cret-never-on-disk"


def free_block(count: int) -> int:
    """The first of ``count`` consecutive ports nothing on 127.0.0.1 listens on."""
    for base in range(21000, 60000, 97):
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free block of ports")


def write_plan(root: Path, cluster: Cluster, topic: str) -> Path:
    broker_port = int(cluster.bootstrap_servers.rsplit(":", 1)[1])
    # the inventory lists the session broker too: Ansible's layout wants a broker host
    hosts = [{"name": "k", "address": "127.0.0.1", "roles": ["broker"], "connection": "local", "kafka_port": broker_port}]
    hosts += [{"name": a, "address": "127.0.0.1", "roles": ["agent"], "connection": "local", "data_dir": str(root / a)}
              for a in AGENTS]
    plan = {
        "metadata": {"name": "jmeter-distributed"},
        "target": {"kind": "existing", "bootstrap_servers": [cluster.bootstrap_servers]},
        "inventory": {"hosts": hosts},
        "topics": [{"name": topic, "partitions": 2}],
        "workloads": [{"name": "jp", "kind": "producer", "engine": "jmeter", "topic": topic, "rate": f"{RATE}/s",
                       "instances": 2, "agents": list(AGENTS), "message": {"size": 100}},
                      {"name": "c", "kind": "consumer", "topic": topic, "drain": "3s"}],
        "phases": [{"name": "hold", "kind": "steady", "duration": f"{LOAD_S}s"}],
        "monitors": {"iostat": {"enabled": False}, "kafka_admin": {"enabled": False}},
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


@dataclass
class Lab:
    root: Path
    plan: Plan
    plan_path: Path
    run: RunDir
    outcome: Outcome
    server_env: list[dict[str, str]]  # each jmeter-server's environment, read while it ran


@pytest.fixture(scope="module")
def lab(kafka_broker: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("jmeter-distributed")
    server_env: list[dict[str, str]] = []
    start = JmeterServers.start

    def start_with_a_secret(self: JmeterServers, home: Path, plugins: list[Path], secret_env: list[str],
                            lifetime_s: float) -> None:
        # as a secured target's password would be: the test reads it from the environment at run time
        start(self, home, plugins, [*secret_env, SECRET_ENV], lifetime_s)
        ports = {f"-Dserver_port={s.port}" for s in self.dist.servers}
        server_env.extend(p.environ() for p in psutil.process_iter(["cmdline"]) if ports & set(p.info["cmdline"] or []))

    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        env.setenv(SECRET_ENV, SECRET)
        env.setattr(distributed, "BASE_PORT", free_block(distributed.CLIENT_PORTS + 2 * len(AGENTS)))
        env.setattr(JmeterServers, "start", start_with_a_secret)
        plan_path = write_plan(root, kafka_broker, f"t-jmeter-dist-{os.getpid()}")
        plan = load_plan(plan_path)
        outcome = apply(plan, plan_path, root / "run", False, Progress())
        yield Lab(root, plan, plan_path, RunDir(root / "run"), outcome, server_env)


def jtl_rows(run: RunDir) -> list[dict[str, str]]:
    with (run.raw / "jmeter" / "jp" / "kpi.jtl").open(newline="") as f:
        return list(csv.DictReader(f))


def test_the_run_passes(lab):
    assert lab.outcome.exit_code() == 0, lab.outcome.headline()


def test_taurus_yaml_names_both_servers(lab):
    doc = yaml.safe_load((lab.run.rendered / "jmeter" / "jp" / "taurus.yml").read_text())
    servers = distribution(lab.plan, lab.plan.workloads[0]).servers
    assert doc["execution"][0]["distributed"] == [s.endpoint for s in servers]
    assert len({s.port for s in servers}) == 2


def test_both_servers_sent_their_share(lab):
    rows = jtl_rows(lab.run)
    assert {r["success"] for r in rows} == {"true"}
    # in distributed mode JMeter prefixes each thread's name with its server's address and port
    by_server = {r["threadName"].split("-", 1)[0] for r in rows}
    assert by_server == {s.endpoint for s in distribution(lab.plan, lab.plan.workloads[0]).servers}
    assert len(rows) == RATE * LOAD_S  # the plan's rate is the total over both servers


def test_everything_produced_was_consumed(lab):
    summary = json.loads(lab.run.summary.read_text())
    consumed = next(w for w in summary["workloads"] if w["name"] == "c")
    assert consumed["messages"] == len(jtl_rows(lab.run))


def test_server_logs_are_fetched_per_host(lab):
    for agent in AGENTS:
        assert "JMeter" in (lab.run.raw / "jmeter" / "jp" / f"{agent}.log").read_text()


def test_nothing_listens_afterwards(lab):
    for server in distribution(lab.plan, lab.plan.workloads[0]).servers:
        for port in (server.port, server.rmi_port):
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", port)) != 0
    left = [p for p in psutil.process_iter(["cmdline"]) if str(lab.root) in " ".join(p.info["cmdline"] or [])]
    assert left == []


def test_secrets_reach_the_servers_environment_and_no_file(lab):
    assert [e.get(SECRET_ENV) for e in lab.server_env] == [SECRET] * len(AGENTS)
    assert (lab.run.ansible_dir / "artifacts" / "jmeter-jp-start" / "job_events").is_dir()
    written = [p for p in lab.root.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert written == []
