import pytest

from orchestrator.errors import InputError
from orchestrator.jmeter.analysis import JSR223, analyze, display_value
from orchestrator.jmeter.jmx import parse_jmx
from tests.jmx_fixtures import directories, own, public

OWN_FAMILIES = {
    "pepper-box.jmx": {"Pepper-Box"},
    "kafkameter.jmx": {"kafkameter"},
    "di-kafkameter.jmx": {"DI-Kafkameter", JSR223},
    "di-kafkameter-groovy-payload.jmx": {"DI-Kafkameter"},
    "kloadgen.jmx": {"KLoadGen"},
    "jsr223-kafka-clients.jmx": {JSR223},
}
PUBLIC_FAMILIES = {
    "GSLabDev_pepper-box.jmx": {"Pepper-Box"},
    "BrightTag_kafkameter.jmx": {"kafkameter"},
    "rollno748_di-kafkameter.jmx": {"DI-Kafkameter", JSR223},
    "gustinmi_sensorius.jmx": {"DI-Kafkameter"},
    "sngular_kloadgen.jmx": {"KLoadGen"},
    "chengkuangan_jmeter-kafka-container.jmx": {JSR223},
}
JSR223_PLANS = [own("jsr223-kafka-clients.jmx", "com.example.loadtest.PayloadFactory"),
                public("chengkuangan_jmeter-kafka-container.jmx", "blog.braindose.kafka.KafkaPerformance")]


def _analysis(path):
    return analyze(parse_jmx(path))


@pytest.mark.parametrize("path,families", [own(n, f) for n, f in OWN_FAMILIES.items()]
                         + [public(n, f) for n, f in PUBLIC_FAMILIES.items()])
def test_kafka_families_are_detected(path, families):
    assert {k.family for k in _analysis(path).kafka} == families


@pytest.mark.parametrize("directory,families", directories(OWN_FAMILIES, PUBLIC_FAMILIES))
def test_every_fixture_is_covered(directory, families):
    assert {p.name for p in directory.glob("*.jmx")} == set(families)


@pytest.mark.parametrize("path", [own("di-kafkameter-groovy-payload.jmx"), public("gustinmi_sensorius.jmx")])
def test_non_kafka_plugin_is_reported_not_rejected(path):
    assert [e.testclass for e in _analysis(path).other_plugins] == ["kg.apc.jmeter.samplers.DummySampler"]


@pytest.mark.parametrize("path,_helper", JSR223_PLANS)
def test_brokers_read_through_a_property_are_overridden_as_a_property(path, _helper):
    overrides = _analysis(path).overrides
    assert {(o.what, o.via, o.key) for o in overrides} == {("brokers", "property", "bootstrap.servers"),
                                                          ("topic", "property", "kafka.topic")}


@pytest.mark.parametrize("path", [own("di-kafkameter.jmx"), public("rollno748_di-kafkameter.jmx")])
def test_variable_holding_a_property_is_followed(path):
    overrides = _analysis(path).overrides
    assert ("brokers", "property", "kafka.brokers") in {(o.what, o.via, o.key) for o in overrides}


@pytest.mark.parametrize("path,sampler", [own("kafkameter.jmx", "Send click"), public("BrightTag_kafkameter.jmx", "Kafka Request")])
def test_literal_sampler_fields_are_overridden_with_set_prop(path, sampler):
    overrides = _analysis(path).overrides
    assert {(o.what, o.key) for o in overrides if o.via == "set-prop"} == {
        ("brokers", f"{sampler}>arguments>Arguments.arguments>kafka_brokers>Argument.value"),
        ("topic", f"{sampler}>arguments>Arguments.arguments>kafka_topic>Argument.value")}


@pytest.mark.parametrize("path,helper", JSR223_PLANS)
def test_script_imports_are_required(path, helper):
    assert {r.name for r in _analysis(path).required} == {helper}


@pytest.mark.parametrize("path", [own("pepper-box.jmx"), public("GSLabDev_pepper-box.jmx")])
def test_plugin_classes_are_required(path):
    assert "com.gslab.pepper.sampler.PepperBoxKafkaSampler" in {r.name for r in _analysis(path).required}


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
