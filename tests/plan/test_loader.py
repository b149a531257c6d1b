"""load_plan end to end: a valid plan, relative paths, and garbage that must only ever give PlanError."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from orchestrator.errors import PlanError
from orchestrator.plan.loader import load_plan
from orchestrator.plan.models import ProducerWorkload

from .sample import BASE


def test_loads_a_valid_plan(write_plan) -> None:
    plan = load_plan(write_plan(BASE))
    assert [w.name for w in plan.workloads] == ["p", "c"]
    assert plan.workloads[0].rate == 1000 and plan.phases[0].duration == 10


def test_relative_paths_resolve_against_the_plan_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plans = tmp_path / "plans"
    (plans / "data").mkdir(parents=True)
    (plans / "data" / "payloads.txt").write_text("one\ntwo\n")
    text = BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    message:\n      payload_file: data/payloads.txt\n")
    (plans / "plan.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    workload = load_plan(Path("plans/plan.yaml")).workloads[0]
    assert isinstance(workload, ProducerWorkload)
    assert workload.message.payload_file == str(plans / "data" / "payloads.txt")


def test_absolute_paths_are_kept(write_plan, tmp_path: Path) -> None:
    payloads = tmp_path / "elsewhere.txt"
    payloads.write_text("x\n")
    text = BASE.replace("    rate: 1k/s\n", f"    rate: 1k/s\n    message:\n      payload_file: {payloads}\n")
    assert load_plan(write_plan(text)).workloads[0].message.payload_file == str(payloads)


def test_all_problems_are_reported_together(write_plan) -> None:
    text = BASE.replace("rate: 1k/s", "rate: fast").replace("duration: 10s", "duration: never")
    with pytest.raises(PlanError) as err:
        load_plan(write_plan(text))
    assert [(i.line, i.path) for i in err.value.issues] == [(9, "workloads.0.rate"), (16, "phases.0.duration")]


def test_issues_are_in_file_order(write_plan) -> None:
    text = BASE + "zzz: 1\naaa: 2\n"
    with pytest.raises(PlanError) as err:
        load_plan(write_plan(text))
    assert [i.path for i in err.value.issues] == ["zzz", "aaa"]


GARBAGE = [
    pytest.param(bytes(range(256)), id="binary"),
    pytest.param(b"\x00\x01\x02metadata: x", id="nul-bytes"),
    pytest.param(b"\xef\xbb\xbfmetadata: {name: t}\n", id="bom-only-metadata"),
    pytest.param("- 1\n- 2\n", id="list"),
    pytest.param("42\n", id="scalar"),
    pytest.param("null\n", id="null"),
    pytest.param("~\n", id="tilde"),
    pytest.param("metadata:\n\tname: t\n", id="tabs"),
    pytest.param("{" * 50 + "}" * 50, id="nested-flow-maps"),
    pytest.param("a: " + "[" * 80 + "]" * 80, id="deep-lists"),
    pytest.param("metadata: [1, {2: [3, {4: 5}]}]\nworkloads: {a: b}\nphases: 7\n", id="wrong-shapes"),
    pytest.param("workloads:\n  - kind: [producer]\n    topic: {x: 1}\nphases:\n  - kind: null\n", id="junk-kinds"),
    pytest.param("target:\n  kind: {a: 1}\n", id="mapping-as-kind"),
    pytest.param("topics:\n  - name: t\n    partitions: 1e400\n", id="huge-float"),
    pytest.param("topics:\n  - name: t\n    partitions: 99999999999999999999999999999\n", id="huge-int"),
    pytest.param("phases:\n  - {name: s, kind: steady, duration: .nan}\n", id="nan-duration"),
    pytest.param("metadata: {name: 2024-01-01}\n", id="date"),
    pytest.param("? a\n", id="key-without-value"),
    pytest.param("'unterminated\n", id="unterminated-quote"),
    pytest.param("*undefined\n", id="undefined-alias"),
    pytest.param("metadata: !!binary aGVsbG8=\n", id="binary-tag"),
    pytest.param("metadata: !!python/object:os.system {}\n", id="python-tag"),
    pytest.param(BASE.replace("rate: 1k/s", "rate: !!float inf"), id="infinite-rate"),
    pytest.param(BASE + "slos:\n  - {name: x, metric: produce.rate, threshold: .inf}\n", id="infinite-threshold"),
]


@pytest.mark.parametrize("text", GARBAGE)
def test_garbage_only_raises_plan_error(write_plan, text: str | bytes) -> None:
    with pytest.raises(PlanError) as err:
        load_plan(write_plan(text))
    assert err.value.issues and all(i.line >= 1 and i.column >= 1 for i in err.value.issues)


def test_random_mutations_only_raise_plan_error(write_plan) -> None:
    rng = random.Random(20261125)
    alphabet = list(":-[]{}#&*!|>'\"%@`, \n\t0x") + ["kind", "name", "rate", "max", "null", "1e9"]
    for _ in range(200):
        chars = list(BASE)
        for _ in range(rng.randint(1, 8)):
            chars.insert(rng.randrange(len(chars)), rng.choice(alphabet))
        try:
            load_plan(write_plan("".join(chars)))
        except PlanError as err:
            assert err.issues
        # a mutation can also leave the plan valid: nothing to check then

