"""--set PATH=VALUE overrides: addressing, value parsing, and errors that name the override."""

from __future__ import annotations

import pytest

from orchestrator.errors import PlanError, UsageError
from orchestrator.plan.loader import load_plan

from .sample import BASE


@pytest.fixture
def plan_file(write_plan):
    return write_plan(BASE)


def test_list_item_by_index(plan_file) -> None:
    assert load_plan(plan_file, ["phases.0.duration=1m"]).phases[0].duration == 60


def test_list_item_by_name(plan_file) -> None:
    assert load_plan(plan_file, ["workloads.p.rate=5k/s"]).workloads[0].rate == 5000


def test_value_is_read_as_yaml(plan_file) -> None:
    plan = load_plan(plan_file, ["topics.orders.partitions=12", "topics.orders.delete_after=true"])
    assert (plan.topics[0].partitions, plan.topics[0].delete_after) == (12, True)


def test_flow_list_value(write_plan) -> None:
    steps = BASE.replace("    kind: steady\n    duration: 10s\n", "    kind: steps\n    step_duration: 10s\n    rates: [1k/s]\n")
    plan = load_plan(write_plan(steps), ["phases.s.rates=[1k/s, 2k/s, 4k/s]"])
    assert plan.phases[0].rates == [1000, 2000, 4000]


def test_free_form_map_key_keeps_its_dots(plan_file) -> None:
    plan = load_plan(plan_file, ["workloads.c.properties.fetch.min.bytes=65536"])
    assert plan.workloads[1].properties == {"fetch.min.bytes": 65536}


def test_missing_section_is_created(plan_file) -> None:
    plan = load_plan(plan_file, ["monitors.iostat.interval=2s", "metadata.labels.team=kafka"])
    assert plan.monitors.iostat.interval == 2 and plan.metadata.labels == {"team": "kafka"}


def test_later_override_wins(plan_file) -> None:
    assert load_plan(plan_file, ["workloads.p.rate=1", "workloads.p.rate=2"]).workloads[0].rate == 2


def test_invalid_value_names_the_override(plan_file) -> None:
    with pytest.raises(PlanError) as err:
        load_plan(plan_file, ["phases.0.duration=soon"])
    assert str(err.value) == (f"{plan_file}:16:15: phases.0.duration: expected a duration such as '30s', '5m', "
                              "'2h' or '7d', got 'soon' (from --set phases.0.duration=soon)")


@pytest.mark.parametrize(("override", "message"), [
    ("phases.0.duration", "--set phases.0.duration: expected PATH=VALUE, e.g. --set phases.0.duration=10s"),
    ("=1", "--set =1: expected PATH=VALUE, e.g. --set phases.0.duration=10s"),
    ("metadata.nam=x", "--set metadata.nam=x: unknown key 'nam' in metadata; did you mean 'name'?"),
    ("workloads.q.rate=1", "--set workloads.q.rate=1: no item named 'q' in workloads (names: p, c)"),
    ("phases.3.duration=1s", "--set phases.3.duration=1s: phases has 1 item(s); index 3 is out of range"),
    ("metadata.name.x=1", "--set metadata.name.x=1: metadata.name is a single value; it has no 'x'"),
    ("phases..duration=1s", "--set phases..duration=1s: empty path segment"),
    ("slos.0.metric=x", "--set slos.0.metric=x: slos has 0 item(s); index 0 is out of range"),
    ("workloads.p.rate=[", "--set workloads.p.rate=[: the value is not valid YAML "
                           "(expected the node content, but found '<stream end>')"),
])
def test_bad_override_is_a_usage_error(plan_file, override: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        load_plan(plan_file, [override])
    assert str(err.value) == message


def test_bad_override_exits_2_on_the_cli(plan_file, capsys: pytest.CaptureFixture[str]) -> None:
    from orchestrator.cli import main

    assert main(["validate", str(plan_file), "--set", "workloads.producr.rate=1"]) == 2
    assert capsys.readouterr().err == ("orchestrate: --set workloads.producr.rate=1: no item named 'producr' in "
                                       "workloads (names: p, c)\n")


def test_override_through_a_value_of_the_wrong_shape(write_plan) -> None:
    path = write_plan(BASE.replace("metadata:\n  name: t\n", "metadata: [1]\n"))
    with pytest.raises(UsageError) as err:
        load_plan(path, ["metadata.name=x"])
    assert str(err.value) == "--set metadata.name=x: metadata is [1] in the plan, not a mapping"
