"""A SASL_PLAINTEXT (PLAIN) broker and an agent on this machine, provisioned through the real
playbooks: the runner on the agent can only produce when the client password, exported here,
reached its environment; and the password is nowhere on disk afterwards, not in
the run directory (specs, inventories, ansible-runner artifacts), the agent's data directory, the
plan's state directory, nor Ansible's async job files. On the way, the progress line showed
Ansible's tasks.

The broker reads its JAAS users through Kafka's FileConfigProvider from a file outside every
directory that is checked, so the plan itself holds no password either."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from orchestrator.pipeline import Outcome, apply
from orchestrator.plan.loader import load_plan
from orchestrator.progress import Progress
from orchestrator.provision import destroy
from tests.integration.ports import free_ports

pytestmark = pytest.mark.integration
SECRET = "agent-s3cret-7f3a9c"
SECRET_ENV = "ORCHESTRATE_TEST_AGENT_PASSWORD"
ASYNC_DIR = Path.home() / ".ansible_async"  # where Ansible's async wrapper writes job results (root, local)


def broker_properties(port: int, controller_port: int, users: Path) -> dict[str, object]:
    def user(name: str) -> str:
        return f'"${{file:{users}:{name}}}"'

    jaas = ("org.apache.kafka.common.security.plain.PlainLoginModule required "
            f"username=\"admin\" password={user('admin')} user_admin={user('admin')} user_alice={user('alice')};")
    return {
        "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{port}",
        "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": "PLAIN", "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "config.providers": "file",
        "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": jaas,
        "offsets.topic.num.partitions": 1, "offsets.topic.replication.factor": 1,
        "group.initial.rebalance.delay.ms": 0,
    }


def write_plan(root: Path) -> Path:
    port, controller_port = free_ports(2)
    users = root / "users.properties"
    users.write_text(f"admin=admin-secret-1b2c\nalice={SECRET}\n")
    users.chmod(0o600)
    plan = {
        "metadata": {"name": "remote-secrets"},
        "target": {"kind": "provisioned", "security": {
            "protocol": "SASL_PLAINTEXT", "sasl": {"mechanism": "PLAIN", "username": "alice", "password_env": SECRET_ENV}}},
        "inventory": {"hosts": [
            {"name": "b1", "address": "127.0.0.1", "roles": ["broker"], "connection": "local",
             "kafka_port": port, "controller_port": controller_port, "data_dir": str(root / "b1")},
            {"name": "a1", "address": "127.0.0.1", "roles": ["agent"], "connection": "local",
             "data_dir": str(root / "a1")},
        ]},
        "provision": {"heap": "256MiB", "os_tuning": False,
                      "properties": broker_properties(port, controller_port, users)},
        "topics": [{"name": "secured", "partitions": 1}],
        # one producer is enough: the broker acknowledges nothing to a client that did not authenticate
        "workloads": [{"name": "p", "kind": "producer", "topic": "secured", "rate": "100/s", "agents": ["a1"]}],
        "phases": [{"name": "hold", "kind": "steady", "duration": "5s"}],
        "slos": [{"name": "all-acknowledged", "metric": "produce.errors", "op": "<=", "threshold": 0}],
        # this test is about the agents' secrets: no broker-side monitors
        "monitors": {"kafka_admin": {"enabled": False}, "iostat": {"enabled": False}},
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


class Watched(Progress):
    """The steps a terminal would have shown."""

    def __init__(self) -> None:
        self.steps: list[str] = []

    def step(self, text: str) -> None:
        self.steps.append(text)


@dataclass
class Applied:
    outcome: Outcome
    root: Path
    began: float
    progress: Watched


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    root = tmp_path_factory.mktemp("remote-secrets")
    began = time.time()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        env.setenv(SECRET_ENV, SECRET)
        plan_path = write_plan(root)
        plan = load_plan(plan_path)
        try:
            progress = Watched()
            yield Applied(apply(plan, plan_path, root / "run", False, progress), root, began, progress)
        finally:
            destroy(plan, plan_path)


def holding_secret(directory: Path, since: float = 0.0) -> list[Path]:
    files = [p for p in directory.rglob("*") if p.is_file() and p.stat().st_mtime >= since]
    return [p for p in files if SECRET.encode() in p.read_bytes()]


def test_agent_runner_authenticated_with_the_exported_secret(applied: Applied) -> None:
    summary = applied.outcome.summary
    assert applied.outcome.exit_code() == 0, applied.outcome.headline()
    assert summary is not None
    assert summary.workloads[0].messages > 0


def test_no_file_in_the_run_directory_holds_the_secret(applied: Applied) -> None:
    assert (applied.root / "run" / "ansible" / "artifacts").is_dir()
    assert holding_secret(applied.root / "run") == []


def test_no_file_on_the_agent_holds_the_secret(applied: Applied) -> None:
    assert list((applied.root / "a1").rglob("p-0.jsonl"))
    assert holding_secret(applied.root / "a1") == []


def test_no_provisioning_artifact_holds_the_secret(applied: Applied) -> None:
    assert holding_secret(applied.root / "state") == []


def test_ansible_async_job_files_do_not_hold_the_secret(applied: Applied) -> None:
    assert ASYNC_DIR.is_dir()
    assert holding_secret(ASYNC_DIR, since=applied.began) == []


def test_progress_showed_ansible_tasks_of_provisioning_and_of_the_agents(applied: Applied) -> None:
    assert "ansible: b1: Install, configure and start Kafka" in applied.progress.steps
    assert "ansible: a1: Start the runner instances" in applied.progress.steps
