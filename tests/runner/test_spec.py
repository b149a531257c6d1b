import json

import pytest

from orchestrator.runner.spec import SpecError, load_spec, parse_spec


def test_minimal_spec_gets_defaults(spec_dict):
    spec = parse_spec(spec_dict)
    assert (spec.message.size, spec.keys.distribution, spec.start) == (1024, "none", "earliest")
    assert spec.duration_s == 5


def test_spec_round_trips_through_json(spec_dict):
    spec = parse_spec({**spec_dict, "keys": {"distribution": "zipf", "cardinality": 10, "skew": 1.5}})
    assert parse_spec(json.loads(spec.to_json())) == spec


@pytest.mark.parametrize("bad", [["g1"], {"g1": 0}, {"g1": "2"}, {"g1": True}])
def test_await_groups_are_instances_by_group(spec_dict, bad):
    assert parse_spec({**spec_dict, "await_groups": {"g1": 2}}).await_groups == {"g1": 2}
    with pytest.raises(SpecError, match="^await_groups: expected an object of positive integers"):
        parse_spec({**spec_dict, "await_groups": bad})


def test_unknown_field_is_named(spec_dict):
    with pytest.raises(SpecError, match="^topik: unknown field"):
        parse_spec({**spec_dict, "topik": "x"})


def test_unknown_nested_field_is_named_with_its_path(spec_dict):
    with pytest.raises(SpecError, match=r"^schedule\[0\]\.rate: unknown field"):
        parse_spec({**spec_dict, "schedule": [{**spec_dict["schedule"][0], "rate": 1}]})


def test_missing_required_field_is_named(spec_dict):
    del spec_dict["topic"]
    with pytest.raises(SpecError, match="^topic: required field is missing"):
        parse_spec(spec_dict)


def test_wrong_type_is_named(spec_dict):
    with pytest.raises(SpecError, match="^instance: expected an integer"):
        parse_spec({**spec_dict, "instance": "0"})


def test_unknown_role_is_rejected(spec_dict):
    with pytest.raises(SpecError, match="^role: must be one of producer, consumer"):
        parse_spec({**spec_dict, "role": "both"})


def test_empty_schedule_is_rejected(spec_dict):
    with pytest.raises(SpecError, match="^schedule: expected a non-empty list"):
        parse_spec({**spec_dict, "schedule": []})


def test_half_throttled_phase_is_rejected(spec_dict):
    phase = {**spec_dict["schedule"][0], "rate_to": None}
    with pytest.raises(SpecError, match="must both be numbers or both null"):
        parse_spec({**spec_dict, "schedule": [phase]})


def test_zero_length_phase_is_rejected(spec_dict):
    with pytest.raises(SpecError, match=r"schedule\[0\]\.duration_s: must be positive"):
        parse_spec({**spec_dict, "schedule": [{**spec_dict["schedule"][0], "duration_s": 0}]})


def test_secret_in_client_config_is_rejected(spec_dict):
    with pytest.raises(SpecError, match="secret_env"):
        parse_spec({**spec_dict, "client_config": {"sasl.password": "hunter2"}})


def test_uniform_sizes_must_be_ordered(spec_dict):
    with pytest.raises(SpecError, match="min .* is larger than max"):
        parse_spec({**spec_dict, "message": {"distribution": "uniform", "min": 10, "max": 5}})


def test_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text('{\n  "workload": ,\n}')
    with pytest.raises(SpecError, match=rf"^{path}:2:\d+: invalid JSON"):
        load_spec(path)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(SpecError, match="cannot read"):
        load_spec(tmp_path / "absent.json")


def test_non_object_spec_is_rejected():
    with pytest.raises(SpecError, match="JSON object"):
        parse_spec([1, 2])
