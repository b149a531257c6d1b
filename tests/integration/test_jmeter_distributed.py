"""JMeter's distributed mode for real: two agent hosts on this machine (connection local, their own
directories and RMI ports) each run a jmeter-server per JMeter workload, started through
playbooks/jmeter.yml; bzt on this machine is the controller. One apply runs a generated producer
and an existing script that needs a plugin jar, both on both agents, against the session's broker."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

from orchestrator.cluster import Cluster
from orchestrator.render import distributed
from orchestrator.render.distributed import JmeterServer, distribution
from orchestrator.execute.jmeter_servers import JmeterServers
from orchestrator.pipeline import Outcome, apply
from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import Plan
from orchestrator.progress import Progress
from orchestrator.rundir import RunDir
from tests.integration.netns_lab import NETNS_SKIP_REASON, NamespaceLab
from tests.jmeter.stand_in import build_pepper_box_jar
from tests.jmx_fixtures import OWN

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


def write_plan(root: Path, cluster: Cluster, topic: str, plugin: Path) -> Path:
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
                      {"name": "legacy", "kind": "script", "script": str(OWN / "pepper-box.jmx"),
                       "topic": topic, "instances": 2, "duration": "4s", "plugins": [str(plugin)], "agents": list(AGENTS)},
                      {"name": "c", "kind": "consumer", "topic": topic, "drain": "3s"}],
        "phases": [{"name": "hold", "kind": "steady", "duration": f"{LOAD_S}s"}],
        "monitors": {"iostat": {"enabled": False}, "kafka_admin": {"enabled": False}},
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


@contextmanager
def foreign_server(count: int) -> Iterator[None]:
    """A process of another run on this machine that has this lab's server ports on its command line,
    as another test session's servers, or one in a network namespace, can have: the secret check
    must tell this lab's servers from it."""
    ports = [f"-Dserver_port={distributed.SERVER_PORT + 2 * i}" for i in range(count)]
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(900)", *ports],
                            env={k: v for k, v in os.environ.items() if k != SECRET_ENV})
    try:
        yield
    finally:
        proc.kill()
        proc.wait(timeout=10)


def lab_servers(root: Path, servers: Iterable[JmeterServer]) -> list[psutil.Process]:
    """The jmeter-server processes of ``servers`` that run from this lab's agent directories (under
    ``root``): a port number alone can be another run's too, in a network namespace or another session."""
    ports = {f"-Dserver_port={s.port}" for s in servers}
    return [p for p in psutil.process_iter(["cmdline"])
            if ports & set(p.info["cmdline"] or []) and str(root) in " ".join(p.info["cmdline"])]


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
        server_env.extend(p.environ() for p in lab_servers(root, self.dist.servers))

    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        env.setenv(SECRET_ENV, SECRET)
        controllers = 2 * distributed.CLIENT_PORTS
        env.setattr(distributed, "SERVER_PORT", free_block(controllers + 2 * 2 * len(AGENTS)) + controllers)
        env.setattr(JmeterServers, "start", start_with_a_secret)
        plugin = build_pepper_box_jar(root / "stand-in")
        plan_path = write_plan(root, kafka_broker, f"t-jmeter-dist-{os.getpid()}", plugin)
        plan = load_plan(plan_path)
        with foreign_server(2 * len(AGENTS)):
            outcome = apply(plan, plan_path, root / "run", False, Progress())
        yield Lab(root, plan, plan_path, RunDir(root / "run"), outcome, server_env)


def jtl_rows(run: RunDir, workload: str = "jp") -> list[dict[str, str]]:
    """One row per message: a generated producer's messages.jtl without its batch lines (kpi.jtl
    holds only those), else the script's kpi.jtl."""
    messages = run.raw / "jmeter" / workload / "messages.jtl"
    with (messages if messages.exists() else run.raw / "jmeter" / workload / "kpi.jtl").open(newline="") as f:
        return [r for r in csv.DictReader(f) if not r["label"].endswith(" batch")]


def servers(lab: Lab, workload: str = "jp") -> list[str]:
    return [s.endpoint for s in distribution(lab.plan, next(w for w in lab.plan.workloads if w.name == workload)).servers]


def test_the_run_passes(lab):
    assert lab.outcome.exit_code() == 0, lab.outcome.headline()


def test_taurus_yaml_names_both_servers(lab):
    doc = yaml.safe_load((lab.run.rendered / "jmeter" / "jp" / "taurus.yml").read_text())
    assert doc["execution"][0]["distributed"] == servers(lab)
    assert len(set(servers(lab) + servers(lab, "legacy"))) == 2 * len(AGENTS)


def test_both_servers_sent_their_share(lab):
    rows = jtl_rows(lab.run)
    assert {r["success"] for r in rows} == {"true"}
    # in distributed mode JMeter prefixes each thread's name with its server's address and port
    assert {r["threadName"].split("-", 1)[0] for r in rows} == set(servers(lab))
    assert len(rows) == RATE * LOAD_S  # the plan's rate is the total over both servers


def test_a_script_with_a_plugin_runs_on_both_servers_pointed_at_the_target(lab):
    rows = jtl_rows(lab.run, "legacy")
    assert {r["threadName"].split("-", 1)[0] for r in rows} == set(servers(lab, "legacy"))
    topic = lab.plan.workloads[0].topic
    assert {r["responseMessage"] for r in rows} == {f"to {lab.plan.target.bootstrap_servers[0]} topic {topic}"}


def test_everything_produced_was_consumed(lab):
    summary = json.loads(lab.run.summary.read_text())
    consumed = next(w for w in summary["workloads"] if w["name"] == "c")
    assert consumed["messages"] == len(jtl_rows(lab.run))


def test_server_logs_are_fetched_per_host(lab):
    for workload in ("jp", "legacy"):
        for agent in AGENTS:
            assert "JMeter" in (lab.run.raw / "jmeter" / workload / f"{agent}.log").read_text()


def test_nothing_listens_afterwards(lab):
    for endpoint in servers(lab) + servers(lab, "legacy"):
        port = int(endpoint.rsplit(":", 1)[1])
        for used in (port, port + 1):
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", used)) != 0
    left = [p for p in psutil.process_iter(["cmdline"]) if str(lab.root) in " ".join(p.info["cmdline"] or [])]
    assert left == []


def test_secrets_reach_the_servers_environment_and_no_file(lab):
    assert [e.get(SECRET_ENV) for e in lab.server_env] == [SECRET] * 2 * len(AGENTS)
    assert (lab.run.ansible_dir / "artifacts" / "jmeter-jp-start" / "job_events").is_dir()
    written = [p for p in lab.root.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert written == []


# --------------------------------------------------------------------------- an agent across a real network

@pytest.fixture(scope="module")
def namespace_run(kafka_broker: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Outcome, RunDir, str]]:
    """The script workload alone, on one agent in a network namespace reached over SSH: the server
    answers on the namespace's address and calls the controller back on the bridge's."""
    if NETNS_SKIP_REASON:
        pytest.skip(NETNS_SKIP_REASON)
    root = tmp_path_factory.mktemp("jmeter-netns")
    os.chmod(root, 0o755)
    lab = NamespaceLab(root, ["nsjmeter"])
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        try:
            lab.up()
            agent = lab.hosts[0]
            plan_path = write_plan(root, kafka_broker, f"t-jmeter-netns-{os.getpid()}", build_pepper_box_jar(root / "stand-in"))
            doc = yaml.safe_load(plan_path.read_text())
            doc["inventory"]["hosts"][1:] = [{"name": agent.name, "address": agent.address, "roles": ["agent"],
                                              "user": "root", "ssh_key": str(lab.key), "data_dir": str(root / "agent")}]
            doc["workloads"] = [{**w, "agents": [agent.name]} for w in doc["workloads"] if w["name"] == "legacy"]
            plan_path.write_text(yaml.safe_dump(doc))
            plan = load_plan(plan_path)
            yield apply(plan, plan_path, root / "run", False, Progress()), RunDir(root / "run"), agent.address
        finally:
            lab.down()


def test_a_server_in_another_network_namespace_runs_the_script(namespace_run):
    outcome, run, address = namespace_run
    assert outcome.exit_code() == 0, outcome.headline()
    rows = jtl_rows(run, "legacy")
    assert rows and {r["success"] for r in rows} == {"true"}
    assert {r["threadName"].split(":", 1)[0] for r in rows} == {address}
