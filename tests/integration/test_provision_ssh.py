"""Provisioning over real SSH: network namespaces made by this test, each with its own address on a
private bridge and its own sshd, act as hosts (one broker, one agent). A plan is applied with its
load coming from the agent host, and with a full disk, a network partition (iptables in the broker's
namespace) and a kill on the broker, each through playbooks/fault.yml; the results are fetched back
and everything is torn down.
Traffic goes only to 127.0.0.0/8 and to the namespaces this test creates."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from orchestrator.pipeline import Outcome, apply
from orchestrator.plan.loader import load_plan
from orchestrator.progress import Progress
from orchestrator.provision import destroy
from tests.integration.netns_lab import NETNS_SKIP_REASON, NamespaceLab, sh

pytestmark = pytest.mark.integration
SECRET, SECRET_ENV = "ssh-agent-s3cret-4d1e", "ORCHESTRATE_TEST_KEY_PASSWORD"
# the namespaces share this machine's file system: disk_full fills a tmpfs of the broker's own
LOG_TMPFS, FILL_TO = "128m", 0.75


def write_plan(root: Path, lab: NamespaceLab) -> Path:
    broker, agent = lab.hosts
    connection = {"connection": "ssh", "user": "root", "ssh_key": str(lab.key)}
    plan = {
        "metadata": {"name": f"provision-ssh-{uuid.uuid4().hex[:6]}"},
        # a client secret the plaintext broker never asks for: the runners refuse to start without it,
        # so the load proves it reached the agent over SSH
        "target": {"kind": "provisioned", "security": {"ssl": {"key_password_env": SECRET_ENV, "verify_hostname": False}}},
        "inventory": {"hosts": [
            {"name": broker.name, "address": broker.address, "roles": ["broker"], "data_dir": str(root / "broker"),
             **connection},
            {"name": agent.name, "address": agent.address, "roles": ["agent"], "data_dir": str(root / "agent"),
             **connection},
        ]},
        "provision": {"heap": "256MiB", "os_tuning": False,
                      "properties": {"offsets.topic.num.partitions": 1, "offsets.topic.replication.factor": 1,
                                     "group.initial.rebalance.delay.ms": 0}},
        "topics": [{"name": "remote", "partitions": 2}],
        "workloads": [
            {"name": "p", "kind": "producer", "topic": "remote", "rate": "200/s", "agents": [agent.name]},
            # idle this long after the phase, the consumer outlasts the only broker's restart (up to
            # 40 s on a loaded 2-core machine), so what was acknowledged is still consumed
            {"name": "c", "kind": "consumer", "topic": "remote", "drain": "45s", "agents": [agent.name]},
        ],
        "phases": [{"name": "hold", "kind": "steady", "duration": "50s"}],
        "slos": [{"name": "nothing-lost", "metric": "consume.lost", "op": "<=", "threshold": 0}],
        # late enough that the agent's clients are connected (they give up when no broker answers at start),
        # one after the other with room to spare: on a loaded machine a step over SSH takes effect up to
        # tens of seconds late, and the kill's restart must come back within the consumer's drain
        "faults": [
            {"name": "disk-remote", "action": "disk_full", "at": "3s", "duration": "3s", "broker": broker.name,
             "fill_to": FILL_TO},
            {"name": "cut-remote", "action": "network_partition", "at": "12s", "duration": "3s", "broker": broker.name},
            {"name": "kill-remote", "action": "broker_kill", "at": "35s", "duration": "1s", "broker": broker.name}],
        "monitors": {"kafka_admin": {"interval": "1s"}},
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


@dataclass
class Applied:
    outcome: Outcome
    root: Path
    lab: NamespaceLab


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    if NETNS_SKIP_REASON:
        pytest.skip(NETNS_SKIP_REASON)
    root = tmp_path_factory.mktemp("provision-ssh")
    os.chmod(root, 0o755)
    lab = NamespaceLab(root, ["nsbroker", "nsagent"])
    logs = root / "broker" / "logs"  # the broker's log dir (its data_dir's default)
    logs.mkdir(parents=True)
    sh("mount", "-t", "tmpfs", "-o", f"size={LOG_TMPFS}", "tmpfs", str(logs))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        env.setenv(SECRET_ENV, SECRET)
        try:
            lab.up()
            plan_path = write_plan(root, lab)
            plan = load_plan(plan_path)
            try:
                yield Applied(apply(plan, plan_path, root / "run", False, Progress()), root, lab)
            finally:
                destroy(plan, plan_path)
        finally:
            lab.down()
            subprocess.run(["umount", "-l", str(logs)], capture_output=True, timeout=30)


def test_apply_over_ssh_passes(applied: Applied) -> None:
    assert applied.outcome.exit_code() == 0, applied.outcome.headline()


def test_load_ran_on_the_agent_and_was_fetched(applied: Applied) -> None:
    records = [json.loads(line) for line in (applied.root / "run" / "raw" / "native" / "p" / "0.jsonl").read_text().splitlines()]
    start = next(r for r in records if r["type"] == "start")
    end = next(r for r in records if r["type"] == "end")
    assert start["host"] == "nsagent" and end["acked"] > 0


def test_client_secret_reached_the_agent_but_no_file(applied: Applied) -> None:
    places = [applied.root / "run", applied.root / "agent", applied.root / "state", Path.home() / ".ansible_async"]
    files = [p for place in places for p in place.rglob("*") if p.is_file()]
    assert not [p for p in files if SECRET.encode() in p.read_bytes()]


def test_nothing_lost_between_agent_clients(applied: Applied) -> None:
    summary = applied.outcome.summary
    assert summary is not None
    consumer = next(w for w in summary.workloads if w.name == "c")
    assert consumer.messages > 0 and consumer.lost == 0


def test_broker_iostat_fetched_from_its_host(applied: Applied) -> None:
    doc = json.loads((applied.root / "run" / "raw" / "iostat" / "nsbroker.json").read_text())
    assert doc["sysstat"]["hosts"][0]["statistics"]


def test_both_hosts_cpu_memory_and_network_were_sampled_and_are_in_the_summary(applied: Applied) -> None:
    for host in ("nsbroker", "nsagent"):
        samples = [json.loads(line) for line in (applied.root / "run" / "raw" / "host" / f"{host}.jsonl").open()]
        assert len(samples) > 10 and all({"cpu", "memory", "net_rx_bytes"} <= s.keys() for s in samples)
    summary = json.loads((applied.root / "run" / "summary.json").read_text())
    sampled = {m["source"] for m in summary["metrics"] if m["metric"] == "host.cpu"}
    assert {"nsbroker", "nsagent"} <= sampled
    assert not (applied.root / "run" / "raw" / "iostat" / "nsagent.json").exists()  # iostat: brokers only


def test_teardown_stopped_the_broker(applied: Applied) -> None:
    pidfile = applied.root / "broker" / "kafka" / "kafka.pid"
    assert not pidfile.exists()


def _fault_task_results(applied: Applied, step: str, task: str, fault: str = "kill-remote") -> list[dict]:
    """What one task of a fault step returned on the broker host, from ansible-runner's job events."""
    events = applied.root / "run" / "ansible" / "artifacts" / f"fault-{fault}-nsbroker-{step}" / "job_events"
    found = [json.loads(p.read_text()) for p in events.glob("*.json")]
    return [e["event_data"]["res"] for e in found
            if e.get("event") == "runner_on_ok" and e["event_data"].get("task") == task
            and e["event_data"].get("host") == "nsbroker"]


def test_fault_killed_the_remote_broker_over_ssh_and_it_listened_again(applied: Applied) -> None:
    signalled = _fault_task_results(applied, "signal-KILL", "Signal the Kafka process")
    assert signalled and signalled[0]["stdout"].startswith("sent SIGKILL to ")
    assert _fault_task_results(applied, "start", "Wait for the Kafka listener")


def test_remote_fault_events_record_the_recovery(applied: Applied) -> None:
    lines = [json.loads(line) for line in (applied.root / "run" / "raw" / "events.jsonl").read_text().splitlines()]
    faults = {e["kind"]: e for e in lines if e["kind"].startswith("fault_") and e["name"] == "kill-remote"}
    assert faults["fault_end"]["ts"] > faults["fault_start"]["ts"]
    assert "recovered after" in faults["fault_end"]["detail"]


def test_admin_monitor_sampled_the_namespace_broker(applied: Applied) -> None:
    lines = (applied.root / "run" / "raw" / "kafka_admin" / "samples.jsonl").read_text().splitlines()
    samples = [json.loads(line) for line in lines]
    assert any(s.get("brokers") == [1] and s.get("partitions") for s in samples)


def test_remote_fault_step_was_launched_early_and_waited_on_the_host_for_its_moment(applied: Applied) -> None:
    lines = [json.loads(line) for line in (applied.root / "run" / "raw" / "events.jsonl").read_text().splitlines()]
    start_at = next(e["ts"] for e in lines if e["kind"] == "phase_start")
    signalled = _fault_task_results(applied, "signal-KILL", "Signal the Kafka process")
    assert signalled and f"kafka-service.sh at {start_at + 35.0} && " in signalled[0]["cmd"]  # at: 35s


def _fault_events(applied: Applied, name: str) -> dict[str, dict]:
    lines = [json.loads(line) for line in (applied.root / "run" / "raw" / "events.jsonl").read_text().splitlines()]
    return {e["kind"]: e for e in lines if e["kind"].startswith("fault_") and e["name"] == name}


def test_partition_dropped_kafka_packets_in_the_namespace_and_its_chain_is_gone(applied: Applied) -> None:
    events = _fault_events(applied, "cut-remote")
    # the broker's two ports (clients and controller), each way
    assert "(every packet dropped: 4 selectors)" in events["fault_start"]["detail"]
    assert events["fault_end"]["detail"].endswith("(rules removed)")
    for step in ("inject", "recover"):
        (ran,) = _fault_task_results(applied, f"script-{step}", "Change the packet rules", "cut-remote")
        assert ran["rc"] == 0
    broker = applied.lab.hosts[0]
    rules = sh("ip", "netns", "exec", broker.netns, "iptables", "-w", "-t", "mangle", "-S")
    assert "-P OUTPUT ACCEPT" in rules and "orch-cut-remote" not in rules


def test_full_disk_filled_the_log_dir_on_the_host_and_its_file_is_gone(applied: Applied) -> None:
    events = _fault_events(applied, "disk-remote")
    detail = events["fault_start"]["detail"]
    written, rest = detail.split("(", 1)[1].split(" MiB in ", 1)
    path, used = rest.split(", file system ", 1)
    assert int(written) > 64 and 75 <= int(used.split("%")[0]) <= 80  # Kafka goes on writing meanwhile
    fill = Path(path)
    assert fill.name == ".orchestrate-fill-disk-remote" and fill.parent.is_dir() and not fill.exists()
    assert events["fault_end"]["detail"].endswith("(file removed)")
