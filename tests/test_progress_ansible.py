from __future__ import annotations

import io
from pathlib import Path

from orchestrator.cluster import Cluster
from orchestrator.execute.target import TargetSession
from orchestrator.plan.models import Plan
from orchestrator.progress import LiveProgress, Progress
from orchestrator.remote.ansible import TaskEvent
from orchestrator.rundir import RunDir


class Steps(Progress):
    def __init__(self) -> None:
        self.steps: list[str] = []

    def step(self, text: str) -> None:
        self.steps.append(text)


def event(status: str) -> TaskEvent:
    return TaskEvent("provision.yml", "b1", "Install Kafka", status)


def test_a_starting_task_becomes_a_step() -> None:
    progress = Steps()
    progress.ansible(event("started"))
    assert progress.steps == ["ansible: b1: Install Kafka"]


def test_a_failed_task_names_its_status() -> None:
    progress = Steps()
    progress.ansible(event("unreachable"))
    assert progress.steps == ["ansible: b1: Install Kafka: unreachable"]


def test_results_of_tasks_already_shown_do_not_redraw() -> None:
    progress = Steps()
    for status in ("ok", "changed", "skipped"):
        progress.ansible(event(status))
    assert progress.steps == []


def test_the_live_line_shows_the_task() -> None:
    stream = io.StringIO()
    LiveProgress(stream).ansible(event("started"))
    assert stream.getvalue() == "\ransible: b1: Install Kafka …"


def test_provisioning_events_of_the_target_reach_the_progress_line(tmp_path, monkeypatch) -> None:
    plan = Plan.model_validate({
        "metadata": {"name": "lab"}, "target": {"kind": "provisioned"},
        "inventory": {"hosts": [{"name": "b1", "address": "127.0.0.1", "roles": ["broker"]}]}, "provision": {},
        "topics": [{"name": "t"}], "workloads": [{"name": "p", "kind": "producer", "topic": "t"}],
        "phases": [{"name": "s", "kind": "steady", "duration": "5s"}],
    })

    def cluster_for(plan, plan_path, run, on_event=None) -> Cluster:
        on_event(event("started"))
        return Cluster("127.0.0.1:9092", [], "4.1.1")

    monkeypatch.setattr("orchestrator.provision.cluster_for", cluster_for)
    progress = Steps()
    TargetSession(plan, Path("plan.yaml"), RunDir.create("lab", explicit=tmp_path / "run"), progress.ansible).open()
    assert progress.steps == ["ansible: b1: Install Kafka"]


def test_orchestrate_provision_shows_ansible_tasks(tmp_path, monkeypatch, capsys) -> None:
    from orchestrator import cli

    plan_path = tmp_path / "plan.yaml"
    plan_path.write_text(
        "metadata: {name: lab}\ntarget: {kind: provisioned}\n"
        "inventory: {hosts: [{name: b1, address: 127.0.0.1, roles: [broker]}]}\nprovision: {}\n"
        "topics: [{name: t}]\nworkloads: [{name: p, kind: producer, topic: t}]\n"
        "phases: [{name: s, kind: steady, duration: 5s}]\n")
    progress = Steps()

    def provision(plan, path, on_event=None) -> str:
        on_event(event("started"))
        return "provisioned"

    monkeypatch.setattr("orchestrator.provision.provision", provision)
    monkeypatch.setattr(Progress, "for_stream", classmethod(lambda cls, stream: progress))
    assert cli.main(["provision", str(plan_path)]) == 0
    assert progress.steps == ["ansible: b1: Install Kafka"]
    assert capsys.readouterr().out == "provisioned\n"
