from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.jmeter.analysis import JSR223, analyze, display_value
from orchestrator.jmeter.jmx import parse_jmx

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "jmx"

DETECTION = {
    "GSLabDev_pepper-box.jmx": {"Pepper-Box"},
    "BrightTag_kafkameter.jmx": {"kafkameter"},
    "rollno748_di-kafkameter.jmx": {"DI-Kafkameter", JSR223},
    "gustinmi_sensorius.jmx": {"DI-Kafkameter"},
    "sngular_kloadgen.jmx": {"KLoadGen"},
    "chengkuangan_jmeter-kafka-container.jmx": {JSR223},
}


def _analysis(name: str):
    return analyze(parse_jmx(FIXTURES / name))


@pytest.mark.parametrize("fixture,families", sorted(DETECTION.items()))
def test_kafka_families_are_detected(fixture, families):
    assert {k.family for k in _analysis(fixture).kafka} == families


def test_every_fixture_is_covered():
    assert {p.name for p in FIXTURES.glob("*.jmx")} == set(DETECTION)


def test_non_kafka_plugin_is_reported_not_rejected():
    assert [e.testclass for e in _analysis("gustinmi_sensorius.jmx").other_plugins] == ["kg.apc.jmeter.samplers.DummySampler"]


def test_brokers_read_through_a_property_are_overridden_as_a_property():
    overrides = _analysis("chengkuangan_jmeter-kafka-container.jmx").overrides
    assert {(o.what, o.via, o.key) for o in overrides} == {("brokers", "property", "bootstrap.servers"),
                                                          ("topic", "property", "kafka.topic")}


def test_variable_holding_a_property_is_followed():
    overrides = _analysis("rollno748_di-kafkameter.jmx").overrides
    assert ("brokers", "property", "kafka.brokers") in {(o.what, o.via, o.key) for o in overrides}


def test_literal_sampler_fields_are_overridden_with_set_prop():
    overrides = _analysis("BrightTag_kafkameter.jmx").overrides
    assert {(o.what, o.key) for o in overrides if o.via == "set-prop"} == {
        ("brokers", "Kafka Request>arguments>Arguments.arguments>kafka_brokers>Argument.value"),
        ("topic", "Kafka Request>arguments>Arguments.arguments>kafka_topic>Argument.value")}


def test_plugin_classes_and_script_imports_are_required():
    required = {r.name for r in _analysis("chengkuangan_jmeter-kafka-container.jmx").required}
    assert required == {"blog.braindose.kafka.KafkaPerformance"}
    assert "com.gslab.pepper.sampler.PepperBoxKafkaSampler" in {r.name for r in _analysis("GSLabDev_pepper-box.jmx").required}


def test_plan_without_thread_group_is_rejected(tmp_path):
    path = tmp_path / "empty.jmx"
    path.write_text('<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan" testname="p"/><hashTree/></hashTree></jmeterTestPlan>')
    with pytest.raises(InputError, match=r"empty.jmx: no thread group"):
        analyze(parse_jmx(path))


def test_unknown_sampler_without_any_kafka_element_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "odd.jmx"
    path.write_text('<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan" testname="p"/><hashTree>\n'
                    '<ThreadGroup testclass="ThreadGroup" testname="tg"/><hashTree>\n'
                    '<com.acme.MqSampler testclass="com.acme.MqSampler" testname="mq"/><hashTree/>\n'
                    '</hashTree></hashTree></hashTree></jmeterTestPlan>')
    with pytest.raises(InputError, match=r"odd.jmx:3: element 'mq': unknown class com.acme.MqSampler"):
        analyze(parse_jmx(path))


@pytest.mark.parametrize("name,value,shown", [
    ("kafkaSslKeystorePassword", "Chang3M3", "present (redacted)"),
    ("sasl.jaas.config", "x required password=\"p\";", "present (redacted)"),
    ("comment", "user password=\"p\"", "present (redacted)"),
    ("ssl.key.password", "", "(empty)"),
    ("bootstrap.servers", "a:1", "a:1"),
])
def test_secrets_are_only_said_to_be_present(name, value, shown):
    assert display_value(name, value) == shown
