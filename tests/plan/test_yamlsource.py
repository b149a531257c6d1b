"""Problems found while reading the YAML itself, each as FILE:LINE:COL."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import PlanError
from orchestrator.plan.yamlsource import read_yaml

from .sample import BASE


def test_missing_file_is_an_issue_at_line_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from orchestrator.cli import main

    path = tmp_path / "nope.yaml"
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"{path}:1:1: no such file"


def test_directory_is_not_a_plan(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as err:
        read_yaml(tmp_path)
    assert str(err.value) == f"{tmp_path}:1:1: is a directory, not a plan file"


def test_empty_file(reject) -> None:
    assert reject("") == ["PLAN:1:1: the plan is empty; it needs at least metadata, workloads and phases"]


def test_comments_only_is_empty(reject) -> None:
    assert reject("# nothing here\n\n")[0].startswith("PLAN:1:1: the plan is empty")


def test_list_document_is_not_a_plan(reject) -> None:
    assert reject("- a\n- b\n") == [
        "PLAN:1:1: a plan must be a mapping of sections (metadata, workloads, phases, ...), got a list"]


def test_scalar_document_is_not_a_plan(reject) -> None:
    assert reject("\n\nhello\n") == [
        "PLAN:3:1: a plan must be a mapping of sections (metadata, workloads, phases, ...), got the scalar 'hello'"]


def test_syntax_error_points_at_the_yaml_mark(reject) -> None:
    assert reject("metadata:\n  name: t\n  bad: [1, 2\nphases: []\n") == [
        "PLAN:4:7: invalid YAML: while parsing a flow sequence expected ',' or ']', but got ':'"]


def test_tab_indentation_says_so(reject) -> None:
    lines = reject("metadata:\n\tname: t\n")
    assert lines == ["PLAN:2:1: invalid YAML: while scanning for the next token found character '\\t' "
                     "that cannot start any token (YAML indents with spaces, not tabs)"]


def test_duplicate_key(reject) -> None:
    text = BASE.replace("    rate: 1k/s\n", "    rate: 1k/s\n    rate: 2k/s\n")
    assert reject(text) == ["PLAN:10:5: workloads.0.rate: duplicate key 'rate' (first given on line 9)"]


def test_every_duplicate_key_is_reported(reject) -> None:
    text = "metadata:\n  name: a\n  name: b\nmetadata: {}\n"
    assert reject(text) == ["PLAN:3:3: metadata.name: duplicate key 'name' (first given on line 2)",
                            "PLAN:4:1: metadata: duplicate key 'metadata' (first given on line 1)"]


def test_complex_key(reject) -> None:
    assert reject("metadata:\n  ? [a, b]\n  : 1\n") == ["PLAN:2:5: metadata: a key must be a plain name, not a list or mapping"]


def test_not_utf8(reject) -> None:
    assert reject(b"metadata:\n  name: \xff\xfe\n") == ["PLAN:2:9: not UTF-8 text (byte 0xff)"]


def test_control_character(reject) -> None:
    assert reject("metadata:\n  name: a\x00b\n") == [
        "PLAN:2:10: invalid character '\\x00': special characters are not allowed"]


def test_unknown_tag(reject) -> None:
    assert reject("metadata:\n  name: !secret x\n") == [
        "PLAN:2:9: metadata.name: cannot read this value: could not determine a constructor for the tag '!secret'"]


def test_several_documents(reject) -> None:
    assert reject("metadata: {}\n---\nmetadata: {}\n") == [
        "PLAN:2:1: invalid YAML: expected a single document in the stream but found another document"]


def test_recursive_alias(reject) -> None:
    lines = reject("metadata: &m\n  name: t\n  labels: *m\n")
    assert lines == ["PLAN:1:11: metadata.labels: a recursive alias refers to itself"]


def test_alias_bomb_is_bounded(reject) -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    lines = reject("\n".join(rows) + "\n")
    assert len(lines) == 1 and "more than 20000 values (alias expansion?)" in lines[0]


def test_deep_nesting(reject) -> None:
    lines = reject("metadata: " + "[" * 100 + "]" * 100 + "\n")
    assert lines == ["PLAN:1:75: metadata.0.0: nested deeper than 64 levels"]


def test_very_deep_nesting_beyond_the_parser(reject) -> None:
    lines = reject("metadata: " + "[" * 600 + "]" * 600 + "\n")
    assert lines == ["PLAN:1:1: the YAML is nested too deeply"]


def test_positions_of_keys_and_values(write_plan) -> None:
    located = read_yaml(write_plan(BASE))
    spot = located.spots[("workloads", 0, "rate")]
    assert (spot.key, spot.value) == ((9, 5), (9, 11))
    assert located.spots[("phases", 0)].key == (14, 5)


def test_keys_stay_as_written(write_plan) -> None:
    located = read_yaml(write_plan("labels:\n  on: 1\n  yes: 2\n  3: x\n"))
    assert located.data == {"labels": {"on": 1, "yes": 2, "3": "x"}}


def test_merge_keys_and_anchors(write_plan) -> None:
    text = "base: &b {rate: 1k/s, acks: all}\nw:\n  <<: *b\n  rate: 2k/s\n"
    located = read_yaml(write_plan(text))
    assert located.data["w"] == {"rate": "2k/s", "acks": "all"}
    assert located.spots[("w", "rate")].key == (4, 3)
