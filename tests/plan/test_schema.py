"""The JSON Schema printed by `orchestrate schema` and kept in docs/plan.schema.json."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from orchestrator.plan.schema import plan_json_schema

SCHEMA_FILE = Path(__file__).parents[2] / "docs" / "plan.schema.json"


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(plan_json_schema())


def test_docs_schema_is_up_to_date() -> None:
    """Regenerate with: .venv/bin/orchestrate schema > docs/plan.schema.json"""
    assert json.loads(SCHEMA_FILE.read_text()) == plan_json_schema()


def test_every_field_has_a_description() -> None:
    schema = plan_json_schema()
    missing = [f"{name}.{key}" for name, model in schema["$defs"].items()
               for key, prop in model.get("properties", {}).items() if not prop.get("description")]
    assert missing == []


@pytest.mark.parametrize(("value", "valid"), [("30s", True), (30, True), ("1h30m", True), ("soon", False), (-1, False)])
def test_durations_accept_numbers_and_units(value: object, valid: bool) -> None:
    schema = plan_json_schema()
    duration = schema["$defs"]["SteadyPhase"]["properties"]["duration"]
    assert jsonschema.Draft202012Validator(duration).is_valid(value) is valid


def test_unknown_keys_are_flagged_by_editors() -> None:
    validator = jsonschema.Draft202012Validator(plan_json_schema())
    errors = list(validator.iter_errors({"metadata": {"name": "x", "nmae": 1}, "workloads": [], "phases": []}))
    assert any("nmae" in e.message for e in errors)


def test_unknown_metrics_are_flagged_by_editors() -> None:
    metric = jsonschema.Draft202012Validator(plan_json_schema()["$defs"]["Slo"]["properties"]["metric"])
    assert metric.is_valid("publish_latency.p99") and not metric.is_valid("publish_latency.p98")


def _errors_for(workload: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(plan_json_schema())
    plan = {"metadata": {"name": "x"}, "workloads": [workload], "phases": [{"name": "p", "kind": "steady", "duration": 10}]}
    return [e.message for e in validator.iter_errors(plan)] + [
        c.message for e in validator.iter_errors(plan) for c in (e.context or [])]


def test_a_bad_field_is_reported_against_the_branch_its_kind_names() -> None:
    messages = _errors_for({"name": "w", "kind": "producer", "topic": "t", "acks": "sometimes"})
    assert messages and all("sometimes" in m for m in messages), messages
    assert not any("start" in m or "group" in m for m in messages)  # nothing about the consumer branch


def test_an_unknown_kind_is_one_error_naming_the_kinds() -> None:
    messages = _errors_for({"name": "w", "kind": "produce", "topic": "t"})
    assert messages == ["'produce' is not one of ['consumer', 'producer', 'script']"]


def test_no_openapi_discriminator_is_left() -> None:
    assert "discriminator" not in json.dumps(plan_json_schema())


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "plans").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_plan_is_valid_for_editors(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(plan_json_schema())
    assert [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))] == []
