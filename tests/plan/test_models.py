"""Each model accepts what the plan language documents, with the documented defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from orchestrator.plan.models import (
    PLAN_DIR,
    ConsumerWorkload,
    ExistingTarget,
    Fault,
    FixedSize,
    Host,
    Inventory,
    Keys,
    LocalTarget,
    Message,
    Metadata,
    Monitors,
    NormalSize,
    Plan,
    ProducerWorkload,
    Provision,
    ProvisionedTarget,
    RampPhase,
    ReportOptions,
    ScriptWorkload,
    Security,
    Slo,
    SteadyPhase,
    StepsPhase,
    Topic,
    UniformSize,
    WarmupPhase,
)

MINIMAL = {
    "metadata": {"name": "m"},
    "topics": [{"name": "t"}],
    "workloads": [{"name": "p", "kind": "producer", "topic": "t"}],
    "phases": [{"name": "s", "kind": "steady", "duration": "10s"}],
}


def test_minimal_plan_defaults_to_a_local_target() -> None:
    plan = Plan.model_validate(MINIMAL)
    assert isinstance(plan.target, LocalTarget)
    assert plan.target.heap == 1024**3
    assert plan.total_duration == 10
    assert plan.topic("t") is plan.topics[0] and plan.topic("nope") is None


def test_target_without_kind_is_local() -> None:
    plan = Plan.model_validate({**MINIMAL, "target": {"heap": "2GiB", "properties": {"num.io.threads": 4}}})
    assert plan.target.kind == "local" and plan.target.heap == 2 * 1024**3


def test_plan_is_frozen() -> None:
    plan = Plan.model_validate(MINIMAL)
    with pytest.raises(ValidationError):
        plan.metadata = Metadata(name="other")  # type: ignore[misc]


def test_metadata() -> None:
    meta = Metadata.model_validate({"name": "a.b_c-1", "description": "d", "labels": {"team": "x"}})
    assert (meta.name, meta.labels) == ("a.b_c-1", {"team": "x"})


def test_existing_target_with_sasl() -> None:
    target = ExistingTarget.model_validate({
        "kind": "existing", "bootstrap_servers": ["k1:9092", "k2:9093"],
        "security": {"protocol": "SASL_SSL", "sasl": {"mechanism": "SCRAM-SHA-512", "username": "u",
                                                       "password_env": "KAFKA_PASSWORD"}},
    })
    assert target.security.sasl is not None and target.security.sasl.password_env == "KAFKA_PASSWORD"


def test_ssl_security_without_sasl() -> None:
    security = Security.model_validate({"protocol": "SSL", "ssl": {"ca_file": "ca.pem", "verify_hostname": False}})
    assert security.ssl is not None and security.ssl.ca_file == "ca.pem"


def test_sasl_section_needs_a_sasl_protocol() -> None:
    with pytest.raises(ValidationError, match="'sasl' is set but protocol is PLAINTEXT"):
        Security.model_validate({"sasl": {"username": "u", "password_env": "P"}})


def test_provisioned_target() -> None:
    assert ProvisionedTarget.model_validate({"kind": "provisioned"}).security.protocol == "PLAINTEXT"


def test_topic_kafka_configs() -> None:
    topic = Topic.model_validate({
        "name": "t", "partitions": 6, "replication_factor": 3, "retention": "7d", "retention_bytes": "1GiB",
        "min_insync_replicas": 2, "cleanup_policy": "compact", "configs": {"segment.bytes": 1048576, "preallocate": True},
    })
    assert topic.kafka_configs() == {
        "segment.bytes": "1048576", "preallocate": "true", "retention.ms": "604800000",
        "retention.bytes": str(1024**3), "min.insync.replicas": "2", "cleanup.policy": "compact",
    }


def test_fixed_size_from_a_plain_size() -> None:
    message = Message.model_validate({"size": "1KiB"})
    assert message.size == 1024 and message.size_distribution() == FixedSize(size=1024)


def test_size_distribution_defaults_to_fixed() -> None:
    assert Message.model_validate({"size": {"size": 100}}).size == FixedSize(size=100)


def test_uniform_and_normal_sizes() -> None:
    assert Message.model_validate({"size": {"distribution": "uniform", "min": "100B", "max": "1KiB"}}).size == \
        UniformSize(distribution="uniform", min=100, max=1024)
    normal = NormalSize.model_validate({"distribution": "normal", "mean": "1KiB", "stddev": 100})
    assert (normal.min, normal.max) == (0, 64 * 1024**2)


def test_message_from_payload_file_resolves_against_the_plan_dir(tmp_path: Path) -> None:
    (tmp_path / "payloads.txt").write_text("a\n")
    message = Message.model_validate({"payload_file": "payloads.txt"}, context={PLAN_DIR: str(tmp_path)})
    assert message.payload_file == str(tmp_path / "payloads.txt")


def test_paths_stay_as_given_without_a_plan_dir() -> None:
    assert Message.model_validate({"payload_file": "payloads.txt"}).payload_file == "payloads.txt"


def test_message_needs_a_size_or_a_payload_file() -> None:
    with pytest.raises(ValidationError, match="give one of 'size' or 'payload_file'"):
        Message.model_validate({})


def test_keys_defaults() -> None:
    keys = Keys.model_validate({"distribution": "zipf"})
    assert (keys.cardinality, keys.skew) == (1000, 1.1)


def test_producer_defaults() -> None:
    producer = ProducerWorkload.model_validate({"name": "p", "kind": "producer", "topic": "t"})
    assert (producer.rate, producer.acks, producer.linger, producer.batch_size) == ("max", "all", 0.005, 64 * 1024)
    assert producer.message.size == 1024 and producer.engine == "native"


@pytest.mark.parametrize(("acks", "expected"), [(0, "0"), (1, "1"), (-1, "all"), ("all", "all")])
def test_producer_acks_as_written_in_kafka(acks: object, expected: str) -> None:
    producer = ProducerWorkload.model_validate({"name": "p", "kind": "producer", "topic": "t", "acks": acks})
    assert producer.acks == expected


def test_consumer_defaults() -> None:
    consumer = ConsumerWorkload.model_validate({"name": "c", "kind": "consumer", "topic": "t", "instances": 3})
    assert (consumer.group, consumer.start, consumer.drain, consumer.instances) == (None, "earliest", 10, 3)


def test_script_workload_plugins(tmp_path: Path) -> None:
    (tmp_path / "test.jmx").write_text("<jmeterTestPlan/>")
    (tmp_path / "plugin.jar").write_bytes(b"PK")
    script = ScriptWorkload.model_validate(
        {"name": "j", "kind": "script", "script": "test.jmx", "plugins": ["plugin.jar", "com.sngular:kloadgen:5.6.10"]},
        context={PLAN_DIR: str(tmp_path)},
    )
    assert script.engine == "jmeter" and script.script == str(tmp_path / "test.jmx")
    assert script.plugins == [str(tmp_path / "plugin.jar"), "com.sngular:kloadgen:5.6.10"]


def test_script_plugin_must_be_a_jar_or_coordinates() -> None:
    with pytest.raises(ValidationError, match="expected a .jar path or Maven coordinates"):
        ScriptWorkload.model_validate({"name": "j", "kind": "script", "script": "t.jmx", "plugins": ["kloadgen"]})


def test_phases() -> None:
    assert WarmupPhase.model_validate({"name": "w", "kind": "warmup", "duration": "30s", "rate": "1k/s"}).rate == 1000
    assert SteadyPhase.model_validate({"name": "s", "kind": "steady", "duration": "2h"}).duration == 7200
    ramp = RampPhase.model_validate({"name": "r", "kind": "ramp", "duration": "1m", "from": "1k/s", "to": "5k/s"})
    assert (ramp.rate_from, ramp.rate_to) == (1000, 5000)
    steps = StepsPhase.model_validate({"name": "x", "kind": "steps", "step_duration": "30s", "rates": ["1k/s", 2000]})
    assert steps.duration == 60 and steps.rates == [1000, 2000]


def test_slo_with_units_and_sustain() -> None:
    slo = Slo.model_validate({"name": "p99", "metric": "publish_latency.p99", "threshold": "20ms",
                              "sustained": "30s", "abort": True})
    assert (slo.op, slo.threshold, slo.sustained, slo.abort) == ("<=", "20ms", 30, True)


@pytest.mark.parametrize("metric", [
    "produce.rate", "consume.position_lag", "consume.committed_lag", "e2e_latency.p999", "corrected_latency.mean", "disk.util",
    "broker.log_dir_bytes", "jmeter.elapsed.p95", "jmeter.error_rate",
])
def test_slo_metrics(metric: str) -> None:
    assert Slo.model_validate({"name": "s", "metric": metric, "threshold": 1}).metric == metric


def test_consume_lag_is_read_as_position_lag() -> None:
    assert Slo.model_validate({"name": "s", "metric": "consume.lag", "threshold": 1}).metric == "consume.position_lag"


def test_monitors_defaults() -> None:
    monitors = Monitors.model_validate({})
    assert (monitors.iostat.interval, monitors.kafka_admin.interval) == (1, 5)


def test_fault() -> None:
    fault = Fault.model_validate({"name": "f", "action": "broker_pause", "at": "1m", "duration": "10s", "broker": "b1"})
    assert (fault.at, fault.duration, fault.broker) == (60, 10, "b1")


def test_report_options() -> None:
    assert ReportOptions.model_validate({"percentiles": [50, 99.99], "formats": ["html"]}).percentiles == [50, 99.99]


def test_host_and_inventory() -> None:
    host = Host.model_validate({"name": "b1", "address": "10.0.0.1", "roles": ["broker"]})
    assert (host.connection, host.port, host.kafka_port, host.controller_port) == ("ssh", 22, 9092, 9093)
    assert Inventory.model_validate({"hosts": [host.model_dump()]}).hosts == [host]


def test_provision_defaults() -> None:
    provision = Provision.model_validate({})
    assert (provision.install_source, provision.mode, provision.heap, provision.teardown) == \
        ("maven", "combined", 1024**3, True)


def test_full_provisioned_plan() -> None:
    hosts = [{"name": f"b{i}", "address": "127.0.0.1", "roles": ["broker", "controller"], "connection": "local",
              "kafka_port": 19092 + 100 * i, "controller_port": 19093 + 100 * i} for i in range(3)]
    hosts.append({"name": "a1", "address": "127.0.0.1", "roles": ["agent"], "connection": "local"})
    plan = Plan.model_validate({
        **MINIMAL, "target": {"kind": "provisioned"}, "inventory": {"hosts": hosts}, "provision": {},
        "topics": [{"name": "t", "replication_factor": 3, "min_insync_replicas": 2}],
        "workloads": [{"name": "p", "kind": "producer", "topic": "t", "agents": ["a1"]}],
        "faults": [{"name": "f", "action": "broker_kill", "broker": "b1", "at": "2s", "duration": "5s"}],
    })
    assert isinstance(plan.target, ProvisionedTarget) and len(plan.inventory.hosts) == 4


def test_cross_field_problems_in_code_name_their_paths() -> None:
    with pytest.raises(ValidationError, match=r"workloads\.0\.topic: topic 'x' is not declared"):
        Plan.model_validate({**MINIMAL, "workloads": [{"name": "p", "kind": "producer", "topic": "x"}]})
