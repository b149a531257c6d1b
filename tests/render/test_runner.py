from pathlib import Path

import pytest

from orchestrator.cluster import Cluster
from orchestrator.plan.models import Plan
from orchestrator.render.runner import STOP_MARGIN_S, runner_specs, stop_timeout_s
from orchestrator.rundir import RunDir
from orchestrator.runner.spec import PhaseSpec, parse_spec

CLUSTER = Cluster(bootstrap_servers="127.0.0.1:9092", brokers=[], kafka_version="4.1.1",
                  client_config={"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
                                 "sasl.username": "u"},
                  secret_env={"sasl.password": "KAFKA_PASSWORD"})


def plan(**workload_fields) -> Plan:
    return Plan.model_validate({
        "metadata": {"name": "p"},
        "topics": [{"name": "t", "partitions": 3}],
        "workloads": [
            {"name": "prod", "kind": "producer", "topic": "t", "rate": "3k/s", "instances": 3, **workload_fields},
            {"name": "cons", "kind": "consumer", "topic": "t", "instances": 2, "drain": "5s"},
        ],
        "phases": [
            {"name": "warm", "kind": "warmup", "duration": "10s", "rate": "600/s"},
            {"name": "hold", "kind": "steady", "duration": "1m"},
            {"name": "up", "kind": "ramp", "duration": "30s", "from": "1k/s", "to": "6k/s"},
            {"name": "stairs", "kind": "steps", "step_duration": "5s", "rates": ["3k/s", "9k/s"]},
            {"name": "flat-out", "kind": "steady", "duration": "5s", "rate": "max"},
        ],
    })


def specs(p: Plan, name: str, tmp_path: Path):
    workload = next(w for w in p.workloads if w.name == name)
    return runner_specs(p, workload, CLUSTER, RunDir(tmp_path), start_at=1000.0)


def test_one_spec_per_instance(tmp_path):
    assert [s.instance for s in specs(plan(), "prod", tmp_path)] == [0, 1, 2]


def test_rates_are_shared_between_instances_and_phases_expanded(tmp_path):
    assert specs(plan(), "prod", tmp_path)[0].schedule == [
        PhaseSpec("warm", "warmup", 10.0, 200.0, 200.0),
        PhaseSpec("hold", "steady", 60.0, 1000.0, 1000.0),
        PhaseSpec("up", "ramp", 30.0, pytest.approx(333.33, 0.01), 2000.0),
        PhaseSpec("stairs", "steps", 5.0, 1000.0, 1000.0),
        PhaseSpec("stairs", "steps", 5.0, 3000.0, 3000.0),
        PhaseSpec("flat-out", "steady", 5.0, None, None),
    ]


def test_plan_settings_become_librdkafka_properties(tmp_path):
    (spec, *_) = specs(plan(acks="1", compression="lz4", linger="20ms", batch_size="128KiB", idempotence=True,
                            properties={"retries": 5, "enable.idempotence": False}), "prod", tmp_path)
    assert spec.client_config == {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": "u",
        "acks": "1", "compression.type": "lz4", "linger.ms": "20", "batch.size": "131072",
        "enable.idempotence": "false", "retries": "5",
    }


def test_secrets_stay_environment_references(tmp_path):
    (spec, *_) = specs(plan(), "prod", tmp_path)
    assert spec.secret_env == {"sasl.password": "KAFKA_PASSWORD"}
    assert "sasl.password" not in spec.to_json().replace('"sasl.password": "KAFKA_PASSWORD"', "")


def test_max_messages_is_split_without_losing_any(tmp_path):
    assert [s.max_messages for s in specs(plan(max_messages=10), "prod", tmp_path)] == [4, 3, 3]


def test_message_size_distribution_is_carried(tmp_path):
    size = {"distribution": "uniform", "min": "100B", "max": "1KiB"}
    (spec, *_) = specs(plan(message={"size": size}), "prod", tmp_path)
    assert (spec.message.distribution, spec.message.min, spec.message.max) == ("uniform", 100, 1024)


def test_consumers_share_a_group_and_are_never_throttled(tmp_path):
    consumers = specs(plan(), "cons", tmp_path)
    assert {s.group for s in consumers} == {"orchestrate-cons"}
    assert all(p.rate_from is None for s in consumers for p in s.schedule)
    assert consumers[0].drain_s == 5.0 and consumers[0].client_config["session.timeout.ms"] == "6000"


def test_producers_wait_for_the_native_consumer_groups_of_their_topic(tmp_path):
    assert all(s.await_groups == {"orchestrate-cons": 2} for s in specs(plan(), "prod", tmp_path))
    assert all(s.await_groups == {} for s in specs(plan(), "cons", tmp_path))


def test_runners_get_their_bound_after_sigterm_before_sigkill(tmp_path):
    assert stop_timeout_s(specs(plan(), "prod", tmp_path)) == 30.0 + STOP_MARGIN_S  # the flush timeout
    assert stop_timeout_s(specs(plan(), "cons", tmp_path)) == 60.0 + STOP_MARGIN_S  # the drain bound


def test_outputs_go_to_raw_native_per_workload_and_instance(tmp_path):
    assert specs(plan(), "prod", tmp_path)[2].output == str((tmp_path / "raw/native/prod/2.jsonl").resolve())


def test_every_spec_passes_the_runners_own_validation(tmp_path):
    import json

    for spec in specs(plan(), "prod", tmp_path) + specs(plan(), "cons", tmp_path):
        assert parse_spec(json.loads(spec.to_json())) == spec


def drain_plan(**phase_fields) -> Plan:
    return Plan.model_validate({
        "metadata": {"name": "d"},
        "topics": [{"name": "t", "partitions": 3}],
        "workloads": [
            {"name": "prod", "kind": "producer", "topic": "t", "instances": 3, "message": {"size": "1000B"}},
            {"name": "cons", "kind": "consumer", "topic": "t", "instances": 2,
             "processing": {"distribution": "uniform", "min": "0.1ms", "max": "0.3ms"}},
        ],
        "phases": [{"name": "warm", "kind": "warmup", "duration": "10s", "rate": "600/s"},
                   {"name": "drain", "kind": "drain", "timeout": "5m", **phase_fields}],
    })


def test_a_drain_is_unthrottled_and_each_producer_sends_its_share_of_the_backlog(tmp_path):
    producers = specs(drain_plan(backlog_messages=10), "prod", tmp_path)
    assert [s.schedule[1] for s in producers] == [PhaseSpec("drain", "drain", 300.0, None, None, n) for n in (4, 3, 3)]
    assert producers[0].schedule[0].messages is None
    assert {s.control for s in producers} == {str((tmp_path / "control.json").resolve())}


def test_a_backlog_in_bytes_becomes_messages_of_the_mean_size(tmp_path):
    producers = specs(drain_plan(backlog="1MB"), "prod", tmp_path)
    assert sum(s.schedule[1].messages for s in producers) == 1000


def test_consumers_carry_the_processing_cost_and_the_control_file(tmp_path):
    (spec, _) = specs(drain_plan(backlog_messages=10), "cons", tmp_path)
    assert (spec.processing.distribution, spec.processing.min_s, spec.processing.max_s) == ("uniform", 0.0001, 0.0003)
    assert spec.schedule[1] == PhaseSpec("drain", "drain", 300.0, None, None) and spec.control is not None
    import json

    assert parse_spec(json.loads(spec.to_json())) == spec
