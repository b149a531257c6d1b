import xml.etree.ElementTree as ET

import pytest

from orchestrator.plan.models import Plan, Security
from orchestrator.render.jmx import STARTUP_ALLOWANCE_S, render_kafka_jmx, schedule

PLAN = {
    "metadata": {"name": "golden"},
    "target": {"kind": "existing", "bootstrap_servers": ["127.0.0.1:9092"],
               "security": {"protocol": "SASL_SSL",
                            "sasl": {"mechanism": "SCRAM-SHA-512", "username": "loader", "password_env": "KAFKA_PASSWORD"},
                            "ssl": {"ca_file": "/etc/ca.pem", "keystore_file": "/etc/client.p12",
                                    "keystore_password_env": "KEYSTORE_PASSWORD"}}},
    "topics": [{"name": "orders"}],
    "workloads": [
        {"name": "orders", "kind": "producer", "engine": "jmeter", "topic": "orders", "rate": "2k/s", "instances": 4,
         "message": {"size": {"distribution": "uniform", "min": 100, "max": "1KiB"}}, "keys": {"distribution": "zipf"},
         "acks": "1", "compression": "lz4", "max_messages": 10001},
        {"name": "audit", "kind": "consumer", "engine": "jmeter", "topic": "orders", "drain": "5s"},
    ],
    "phases": [
        {"name": "warm", "kind": "warmup", "duration": "10s", "rate": "500/s"},
        {"name": "ramp", "kind": "ramp", "duration": "20s", "from": "1k/s", "to": "3k/s"},
        {"name": "steps", "kind": "steps", "step_duration": "5s", "rates": ["1k/s", "2k/s"]},
        {"name": "flat-out", "kind": "steady", "duration": "5s", "rate": "max"},
    ],
}


@pytest.fixture
def plan() -> Plan:
    return Plan.model_validate(PLAN)


def _render(plan: Plan, index: int):
    return render_kafka_jmx(plan, plan.workloads[index], "127.0.0.1:9092", plan.target.security)


def test_producer_jmx_matches_golden(plan, golden):
    golden("producer.jmx", _render(plan, 0).jmx)


def test_consumer_jmx_matches_golden(plan, golden):
    golden("consumer.jmx", _render(plan, 1).jmx)


@pytest.mark.parametrize("index, elements", [(0, {"JSR223Sampler", "JSR223PreProcessor"}),
                                             (1, {"JSR223Sampler", "JSR223PreProcessor", "JSR223Timer"})])
def test_jmx_is_well_formed_with_groovy_jsr223_elements_that_cache(plan, index, elements):
    root = ET.fromstring(_render(plan, index).jmx)
    scripted = [e for e in root.iter() if e.get("testclass", "").startswith("JSR223")]
    assert {e.get("testclass") for e in scripted} == elements
    for element in scripted:
        props = {p.get("name"): p.text for p in element.findall("stringProp")}
        assert props["scriptLanguage"] == "groovy" and props["cacheKey"] == "true"
        assert "${" not in props["script"]  # JMeter would substitute it and defeat compilation caching


def test_thread_group_has_threads_loops_and_a_bounded_duration(plan):
    root = ET.fromstring(_render(plan, 0).jmx)
    group = root.find(".//ThreadGroup")
    props = {p.get("name"): p.text for p in group.iter("stringProp")}
    assert props["ThreadGroup.num_threads"] == "4"
    assert props["LoopController.loops"] == "-1"  # the sender counts its sends; a loop is a batch of them
    assert _render(plan, 0).properties["orchestrate.max_per_thread"] == "2501"  # 10001 over 4 threads, rounded up
    assert props["ThreadGroup.duration"] == str(45 + STARTUP_ALLOWANCE_S)


def test_schedule_covers_every_phase_with_total_rates(plan):
    assert schedule(plan, plan.workloads[0]) == "10:500:500;20:1000:3000;5:1000:1000;5:2000:2000;5:-1:-1"


def test_producer_samples_batches_and_its_own_listener_writes_every_message(plan):
    rendered = _render(plan, 0)
    root = ET.fromstring(rendered.jmx)
    assert root.find(".//JSR223Sampler").get("testname") == "orders batch"
    listener = root.find(".//ResultCollector")
    config = listener.find("objProp/value")
    assert listener.find("stringProp[@name='filename']").text == "${__P(orchestrate.messages_jtl)}"
    assert (config.findtext("subresults"), config.findtext("connectTime"), config.findtext("xml")) == ("true", "true", "false")
    assert rendered.per_message and rendered.properties["orchestrate.label"] == "orders"
    assert rendered.properties["orchestrate.schedule"] == schedule(plan, plan.workloads[0])


def test_consumer_has_no_listener_of_its_own(plan):
    rendered = _render(plan, 1)
    assert ET.fromstring(rendered.jmx).find(".//ResultCollector") is None and not rendered.per_message


def test_producer_settings_become_properties(plan):
    props = _render(plan, 0).properties
    assert props["kafka.acks"] == "1" and props["kafka.compression.type"] == "lz4"
    assert props["orchestrate.message.distribution"] == "uniform"
    assert (props["orchestrate.message.min"], props["orchestrate.message.max"]) == ("100", "1024")
    assert props["orchestrate.keys.distribution"] == "zipf"


def test_secrets_are_passed_as_environment_variable_names_only(plan):
    props = _render(plan, 0).properties
    assert props["orchestrate.sasl.password_env"] == "KAFKA_PASSWORD"
    assert props["orchestrate.secret.ssl.keystore.password"] == "KEYSTORE_PASSWORD"
    assert props["kafka.ssl.keystore.type"] == "PKCS12"
    assert not any("password" in k.lower() and not k.endswith(("_env", ".password")) for k in props)


def test_consumer_runs_for_the_plan_then_drains(plan):
    props = _render(plan, 1).properties
    assert props["orchestrate.duration_s"] == "45"
    assert props["orchestrate.drain_ms"] == "5000"
    assert props["orchestrate.group"] == "orchestrate-audit"
    assert props["kafka.session.timeout.ms"] == "6000"  # a short group join, as the native consumer has


def test_plain_target_has_no_security_properties(plan):
    props = render_kafka_jmx(plan, plan.workloads[0], "b:9092", Security()).properties
    assert props["kafka.security.protocol"] == "PLAINTEXT"
    assert not [k for k in props if "sasl" in k or "ssl" in k]
