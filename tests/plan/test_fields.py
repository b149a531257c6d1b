"""Walking the plan's model types along a path of YAML keys."""

from __future__ import annotations

from orchestrator.plan import fields
from orchestrator.plan.models import (
    ConsumerWorkload,
    ExistingTarget,
    LocalTarget,
    Plan,
    ProducerWorkload,
    RampPhase,
    Topic,
    UniformSize,
    Workload,
)

DATA = {
    "target": {"kind": "existing"},
    "workloads": [{"kind": "producer", "message": {"size": {"distribution": "uniform"}}}, {"kind": "consumer"}],
}


def test_union_tag_of_workloads() -> None:
    assert fields.union_tag(Workload) == ("kind", ["producer", "consumer", "script"])


def test_resolve_picks_the_member_the_data_names() -> None:
    assert fields.resolve(Workload, {"kind": "consumer"}) is ConsumerWorkload


def test_resolve_uses_the_default_tag() -> None:
    assert fields.type_at(("target",), {"target": {}}) is LocalTarget


def test_type_at_follows_lists_and_unions() -> None:
    assert fields.type_at(("target",), DATA) is ExistingTarget
    assert fields.type_at(("workloads", 0), DATA) is ProducerWorkload
    assert fields.type_at(("workloads", 0, "message", "size"), DATA) is UniformSize
    assert fields.type_at(("topics", 0), {}) is Topic


def test_type_at_leaves_the_schema() -> None:
    assert fields.type_at(("nope",), DATA) is None
    assert fields.type_at(("workloads", 0, "rate", "x"), DATA) is None


def test_model_keys_use_aliases() -> None:
    assert "from" in fields.model_keys(RampPhase) and "rate_from" not in fields.model_keys(RampPhase)


def test_owners_of_a_key_in_another_kind() -> None:
    assert fields.owners(Workload, "group") == ["consumer"]
    assert fields.owners(Workload, "topic") == ["producer", "consumer", "script"]


def test_free_maps() -> None:
    assert fields.is_free_map(fields.type_at(("workloads", 0, "properties"), DATA))
    assert not fields.is_free_map(Plan)
