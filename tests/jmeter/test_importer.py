from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.jmeter.importer import import_jmx
from orchestrator.plan.models import ScriptWorkload

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "jmx"
ALL = sorted(p.name for p in FIXTURES.glob("*.jmx"))
# secret values written in the fixtures; none may ever be printed
SECRETS = ("Chang3M3", "REDACTED")


@pytest.mark.parametrize("fixture", ALL)
def test_cli_reports_every_fixture_without_secrets(fixture, capsys):
    assert main(["import-jmx", str(FIXTURES / fixture)]) == 0
    out = capsys.readouterr().out
    assert "Kafka elements (" in out and "Thread groups:" in out
    assert not [s for s in SECRETS if s in out]


@pytest.mark.parametrize("fixture", ALL)
def test_snippet_is_a_valid_script_workload(fixture):
    snippet = yaml.safe_load(import_jmx(FIXTURES / fixture).snippet())
    workload = ScriptWorkload.model_validate(snippet["workloads"][0])
    assert workload.script == str(FIXTURES / fixture)


def test_report_names_plugin_broker_topic_and_security(capsys):
    main(["import-jmx", str(FIXTURES / "rollno748_di-kafkameter.jmx")])
    out = capsys.readouterr().out
    assert "DI-Kafkameter sampler \"Kafka Producer Sampler\"" in out
    assert "(= ${__P(kafka.brokers,localhost:9092)})" in out
    assert "sasl.jaas.config=present (redacted)" in out and "kafkaSslKeystorePassword=present (redacted)" in out
    assert "password (default: present (redacted))" in out


def test_report_lists_thread_groups_timers_and_overrides(capsys):
    main(["import-jmx", str(FIXTURES / "rollno748_di-kafkameter.jmx")])
    out = capsys.readouterr().out
    assert 'ThreadGroup "Consumer": threads 1, ramp-up s 1, loops 1, duration s 10' in out
    assert "ConstantThroughputTimer \"Constant Throughput Timer\": throughput 600.0, calcMode 2 [disabled]" in out
    assert "brokers (line 5) via JMeter property -Jkafka.brokers" in out


def test_kloadgen_snippet_points_at_maven_coordinates():
    snippet = yaml.safe_load(import_jmx(FIXTURES / "sngular_kloadgen.jmx").snippet())
    assert snippet["workloads"][0]["plugins"] == ["com.sngular:kloadgen:<version>"]


def test_property_knobs_become_jmeter_properties_except_overridden_ones():
    snippet = yaml.safe_load(import_jmx(FIXTURES / "chengkuangan_jmeter-kafka-container.jmx").snippet())
    props = snippet["workloads"][0]["jmeter_properties"]
    assert props["record.size"] == "100" and "bootstrap.servers" not in props and "kafka.topic" not in props


@pytest.mark.parametrize("text,where", [
    ("<jmeterTestPlan><hashTree>", "broken.jmx:1:"),
    ('<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan" testname="p"/></hashTree></jmeterTestPlan>', "no thread group"),
    ('<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan" testname="p"/><hashTree>'
     '<ThreadGroup testclass="ThreadGroup" testname="tg"/><hashTree><x testclass="com.acme.X" testname="x"/>'
     "</hashTree></hashTree></hashTree></jmeterTestPlan>", "unknown class com.acme.X"),
])
def test_malformed_input_exits_2_with_file_and_element(tmp_path, capsys, text, where):
    path = tmp_path / "broken.jmx"
    path.write_text(text)
    assert main(["import-jmx", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and where in err and "Traceback" not in err

def test_script_helper_classes_are_reported_as_jars_to_supply(capsys):
    main(["import-jmx", str(FIXTURES / "chengkuangan_jmeter-kafka-container.jmx")])
    out = capsys.readouterr().out
    assert "Plugins: none" not in out
    assert "line 161: needs blog.braindose.kafka.KafkaPerformance" in out
    snippet = yaml.safe_load(import_jmx(FIXTURES / "chengkuangan_jmeter-kafka-container.jmx").snippet())
    assert snippet["workloads"][0]["plugins"] == ["path/to/jar-with-KafkaPerformance.jar"]
