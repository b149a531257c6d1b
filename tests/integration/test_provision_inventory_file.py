"""apply through an existing INI inventory (inventory.path): one broker on this machine provisioned by
the real playbooks from the file's host, a few seconds of load, iostat on that host, then destroy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

from orchestrator.pipeline import Outcome, apply
from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import Plan
from orchestrator.progress import Progress
from orchestrator.provision import destroy
from orchestrator.rundir import RunDir
from tests.integration.ports import free_ports

pytestmark = pytest.mark.integration
SECRET = "s3cret-in-the-inventory"  # an unrelated variable of the inventory: never copied anywhere


def write_lab(root: Path) -> Path:
    kafka_port, controller_port = free_ports(2)
    (root / "hosts.ini").write_text(
        "[brokers]\n"
        f"b1 ansible_host=127.0.0.1 ansible_connection=local kafka_port={kafka_port} "
        f"controller_port={controller_port} data_dir={root / 'b1'}\n\n"
        f"[all:vars]\napp_db_password={SECRET}\n")
    plan = {
        "metadata": {"name": f"inventory-file-{root.name}"},
        "target": {"kind": "provisioned"},
        "inventory": {"path": "hosts.ini"},
        "provision": {"heap": "256MiB", "os_tuning": False},
        "topics": [{"name": "t"}],
        "workloads": [{"name": "p", "kind": "producer", "topic": "t", "rate": "50/s"}],
        "phases": [{"name": "s", "kind": "steady", "duration": "3s"}],
    }
    path = root / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


@dataclass
class Lab:
    root: Path
    plan: Plan
    run: RunDir
    outcome: Outcome
    kafka_pids_after_destroy: list[int]


def _kafka_pids(root: Path) -> list[int]:
    return [p.pid for p in psutil.process_iter(["cmdline"])
            if "kafka.Kafka" in (p.info["cmdline"] or []) and str(root) in " ".join(p.info["cmdline"] or [])]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("inventory-file")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_STATE_HOME", str(root / "state"))
        plan_path = write_lab(root)
        plan = load_plan(plan_path)
        try:
            outcome = apply(plan, plan_path, root / "run", False, Progress())
        finally:
            destroy(plan, plan_path)
        yield Lab(root, plan, RunDir(root / "run"), outcome, _kafka_pids(root))


def test_apply_through_the_inventory_file_passes(lab: Lab) -> None:
    assert lab.outcome.exit_code() == 0, lab.outcome.headline()
    assert lab.outcome.summary is not None
    assert {w.name: w.messages for w in lab.outcome.summary.workloads}["p"] > 0


def test_iostat_ran_on_the_file_host(lab: Lab) -> None:
    doc = json.loads((lab.run.raw / "iostat" / "b1.json").read_text())
    assert doc["sysstat"]["hosts"][0]["statistics"]


def test_resolved_plan_records_the_path_and_the_hosts_read(lab: Lab) -> None:
    resolved = yaml.safe_load(lab.run.resolved_plan.read_text())
    assert resolved["inventory"]["path"] == str(lab.root / "hosts.ini")
    assert [h["name"] for h in resolved["inventory"]["hosts"]] == ["b1"]


def test_unmapped_inventory_variables_reach_no_file(lab: Lab) -> None:
    files = [p for d in (lab.run.root, lab.root / "state") for p in d.rglob("*") if p.is_file()]
    assert any(p.name == "command" for p in files)
    assert not [p for p in files if SECRET in p.read_text(errors="replace")]


def test_destroy_leaves_no_kafka_process_and_no_install(lab: Lab) -> None:
    assert lab.kafka_pids_after_destroy == []
    assert not (lab.root / "b1" / "kafka").exists()
