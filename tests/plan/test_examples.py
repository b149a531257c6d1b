"""Every example plan in plans/ is valid, survives a dump and reload, and fits the JSON Schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import Plan
from orchestrator.plan.schema import plan_json_schema

PLANS = sorted((Path(__file__).parents[2] / "plans").glob("*.yaml"))


def test_there_are_example_plans() -> None:
    assert {p.name for p in PLANS} >= {
        "quickstart.yaml", "disk-fill-under-retention.yaml", "capacity-at-latency-slo.yaml",
        "consumer-sustained-rate.yaml", "broker-failure-recovery.yaml", "flood-detection.yaml",
        "multi-broker-cluster.yaml", "jmeter-reuse.yaml", "consumer-drain.yaml",
    }


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_example_plan_is_valid(path: Path) -> None:
    plan = load_plan(path)
    assert plan.metadata.name == path.stem
    assert plan.metadata.description


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_example_plan_round_trips(path: Path) -> None:
    """What apply writes as plan.resolved.yaml loads back to the same plan."""
    plan = load_plan(path)
    dumped = yaml.safe_load(yaml.safe_dump(plan.model_dump(mode="json", by_alias=True)))
    assert Plan.model_validate(dumped) == plan


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_example_plan_fits_the_json_schema(path: Path) -> None:
    jsonschema.Draft202012Validator(plan_json_schema()).validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_example_plan_points_editors_at_the_schema(path: Path) -> None:
    assert path.read_text().startswith("# yaml-language-server: $schema=../docs/plan.schema.json\n")


def test_quickstart_is_short() -> None:
    plan = load_plan(PLANS[0].parent / "quickstart.yaml")
    assert plan.total_duration <= 30
    assert plan.topics[0].partitions == 3 and plan.workloads[0].rate == 2000
