"""Provisioning failures through the real playbooks: an unreachable host, a failing task, and a
partly provisioned inventory, each reported with host and task, exit 3, and torn down."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

from orchestrator import cli
from orchestrator.errors import ProvisionError
from orchestrator.plan.loader import load_plan
from orchestrator.provision import provision
from tests.integration.ports import free_ports

pytestmark = pytest.mark.integration


def local_broker(root: Path, name: str, roles: tuple[str, ...] = ("broker",)) -> dict:
    kafka_port, controller_port = free_ports(2)
    return {"name": name, "address": "127.0.0.1", "roles": list(roles), "connection": "local",
            "kafka_port": kafka_port, "controller_port": controller_port, "data_dir": str(root / name)}


def write_plan(root: Path, hosts: list[dict], **provision: object) -> Path:
    plan = {"metadata": {"name": f"errors-{root.name}"}, "target": {"kind": "provisioned"},
            "inventory": {"hosts": hosts}, "provision": {"heap": "256MiB", "os_tuning": False, **provision},
            "topics": [{"name": "t"}], "workloads": [{"name": "p", "kind": "producer", "topic": "t"}],
            "phases": [{"name": "s", "kind": "steady", "duration": "5s"}]}
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


@dataclass
class Failed:
    root: Path
    code: int
    stderr: str


@pytest.fixture(scope="module")
def partly_provisioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Failed]:
    """One local broker that provisions fine, one ssh host where nothing listens (127.0.0.1). The
    local one is the only controller, so it forms its quorum alone and starts in seconds: were the
    dead host a voter too, it would wait for the listener until kafka_start_timeout (90 s)."""
    root = tmp_path_factory.mktemp("partial")
    ssh_port, kafka_port, controller_port = free_ports(3)
    dead = {"name": "gone", "address": "127.0.0.1", "roles": ["broker"], "port": ssh_port, "user": "nobody",
            "kafka_port": kafka_port, "controller_port": controller_port, "data_dir": str(root / "gone")}
    plan_path = write_plan(root, [local_broker(root, "b1", ("broker", "controller")), dead])
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        env.setattr(sys, "stderr", err)
        code = cli.main(["provision", str(plan_path)])
    yield Failed(root, code, err.getvalue())


def test_unreachable_host_exits_3_naming_host_and_task(partly_provisioned: Failed) -> None:
    assert partly_provisioned.code == 3
    assert "host gone: task 'Gathering Facts'" in partly_provisioned.stderr
    assert len(partly_provisioned.stderr.strip().splitlines()) == 1


def test_partial_provisioning_names_who_got_how_far(partly_provisioned: Failed) -> None:
    assert "partial provisioning: gone failed; tasks completed on b1; everything was torn down" in partly_provisioned.stderr


def test_partial_provisioning_is_torn_down(partly_provisioned: Failed) -> None:
    assert not (partly_provisioned.root / "b1" / "kafka").exists()
    assert not [p for p in psutil.process_iter(["cmdline"])
                if str(partly_provisioned.root) in " ".join(p.info["cmdline"] or [])]


def test_failing_task_raises_with_host_task_and_ansible_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    missing = tmp_path / "no-such-kafka.tgz"
    plan_path = write_plan(tmp_path, [local_broker(tmp_path, "b1")], install_source="tarball",
                           tarball_url=missing.as_uri())
    with pytest.raises(ProvisionError) as caught:
        provision(load_plan(plan_path), plan_path)
    assert caught.value.host == "b1"
    assert caught.value.task == "Download and unpack the Apache Kafka tarball"
    assert "no-such-kafka.tgz" in str(caught.value)


def test_inventory_without_broker_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent = {"name": "a1", "address": "127.0.0.1", "roles": ["agent"], "connection": "local"}
    plan_path = write_plan(tmp_path, [agent])
    assert cli.main(["provision", str(plan_path)]) == 2
    assert "inventory.hosts: the inventory names no host with role 'broker'" in capsys.readouterr().err
