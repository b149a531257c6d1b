from __future__ import annotations

import sys
from pathlib import Path

import pytest

from orchestrator.remote.ansible import _environment, _event


def raw(event: str, **data: object) -> dict:
    return {"event": event, "event_data": {"host": "b1", "task": "Start Kafka", **data}}


def test_failed_task_carries_ansible_message() -> None:
    event = _event("provision.yml", raw("runner_on_failed", res={"msg": "non-zero return code", "rc": 1}))
    assert (event.host, event.task, event.status, event.message) == ("b1", "Start Kafka", "failed", "non-zero return code")


def test_failed_command_reports_the_last_stderr_line_when_there_is_no_msg() -> None:
    event = _event("p.yml", raw("runner_on_failed", res={"stderr": "starting\nKafka exited at once", "msg": ""}))
    assert event.message == "Kafka exited at once"


def test_a_failed_command_says_what_it_printed_not_ansibles_generic_words() -> None:
    res = {"msg": "non-zero return code", "rc": 2, "stderr": "", "stdout": "checking\nKafka is not running (pidfile x)\n"}
    assert _event("p.yml", raw("runner_on_failed", res=res)).message == "exit status 2: Kafka is not running (pidfile x)"


def test_ignored_failure_is_not_a_failure() -> None:
    assert _event("p.yml", raw("runner_on_failed", ignore_errors=True, res={"msg": "x"})).status == "ignored"


def test_unreachable_host_is_reported() -> None:
    event = _event("p.yml", raw("runner_on_unreachable", res={"msg": "Failed to connect to the host via ssh"}))
    assert (event.status, event.message) == ("unreachable", "Failed to connect to the host via ssh")


def test_changed_task_is_distinguished_from_ok() -> None:
    assert _event("p.yml", raw("runner_on_ok", res={"changed": True})).status == "changed"


def test_other_events_are_ignored() -> None:
    assert _event("p.yml", {"event": "playbook_on_start", "event_data": {}}) is None


def test_environment_drops_unlisted_variables_such_as_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "hunter2")
    env = _environment()
    assert "hunter2" not in env.values()
    assert env["PATH"].startswith(str(Path(sys.executable).parent))


def test_a_starting_task_is_reported_as_started() -> None:
    event = _event("p.yml", raw("runner_on_start"))
    assert (event.host, event.task, event.status) == ("b1", "Start Kafka", "started")
