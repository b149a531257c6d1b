import pytest
import yaml

from orchestrator.cli import main
from orchestrator.jmeter.importer import import_jmx
from orchestrator.plan.models import ScriptWorkload
from tests.jmx_fixtures import every_plan, own, public

# secret values written in the fixtures (own, then public); none may ever be printed
SECRETS = ("pepper-tru5tstore-pw", "di-trust-0f-mine", "di-keyst0re-pw", "l0adt3st-sasl-pw", "meter-keyst0re",
           "kl0adgen-keystore-pw", "registry-s3cret-pw", "inv3ntory-sasl-pw", "Chang3M3", "REDACTED")
DI_KAFKAMETER = [own("di-kafkameter.jmx"), public("rollno748_di-kafkameter.jmx")]
JSR223 = [own("jsr223-kafka-clients.jmx", "512", "line 105: needs com.example.loadtest.PayloadFactory",
              "path/to/jar-with-PayloadFactory.jar"),
          public("chengkuangan_jmeter-kafka-container.jmx", "100", "line 161: needs blog.braindose.kafka.KafkaPerformance",
                 "path/to/jar-with-KafkaPerformance.jar")]


@pytest.mark.parametrize("path", every_plan())
def test_cli_reports_every_fixture_without_secrets(path, capsys):
    assert main(["import-jmx", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Kafka elements (" in out and "Thread groups:" in out
    assert not [s for s in SECRETS if s in out]


@pytest.mark.parametrize("path", every_plan())
def test_snippet_is_a_valid_script_workload(path):
    snippet = yaml.safe_load(import_jmx(path).snippet())
    workload = ScriptWorkload.model_validate(snippet["workloads"][0])
    assert workload.script == str(path)


@pytest.mark.parametrize("path", DI_KAFKAMETER)
def test_report_names_plugin_broker_topic_and_security(path, capsys):
    main(["import-jmx", str(path)])
    out = capsys.readouterr().out
    assert "DI-Kafkameter sampler \"Kafka Producer Sampler\"" in out
    assert "(= ${__P(kafka.brokers,localhost:9092)})" in out
    assert "sasl.jaas.config=present (redacted)" in out and "kafkaSslKeystorePassword=present (redacted)" in out
    assert "password (default: present (redacted))" in out


@pytest.mark.parametrize("path,thread_group,timer,override", [
    own("di-kafkameter.jmx", 'ThreadGroup "Consumer": threads 2, ramp-up s 1, loops -1, duration s 130',
        'ConstantThroughputTimer "Payments per minute": throughput 1200.0, calcMode 1\n',
        "brokers (line 11) via JMeter property -Jkafka.brokers"),
    public("rollno748_di-kafkameter.jmx", 'ThreadGroup "Consumer": threads 1, ramp-up s 1, loops 1, duration s 10',
           'ConstantThroughputTimer "Constant Throughput Timer": throughput 600.0, calcMode 2 [disabled]',
           "brokers (line 5) via JMeter property -Jkafka.brokers"),
])
def test_report_lists_thread_groups_timers_and_overrides(path, thread_group, timer, override, capsys):
    main(["import-jmx", str(path)])
    out = capsys.readouterr().out
    assert thread_group in out and timer in out and override in out


@pytest.mark.parametrize("path", [own("kloadgen.jmx"), public("sngular_kloadgen.jmx")])
def test_kloadgen_snippet_points_at_maven_coordinates(path):
    snippet = yaml.safe_load(import_jmx(path).snippet())
    assert snippet["workloads"][0]["plugins"] == ["com.sngular:kloadgen:<version>"]


@pytest.mark.parametrize("path,record_size,_needs,_jar", JSR223)
def test_property_knobs_become_jmeter_properties_except_overridden_ones(path, record_size, _needs, _jar):
    props = yaml.safe_load(import_jmx(path).snippet())["workloads"][0]["jmeter_properties"]
    assert props["record.size"] == record_size and "bootstrap.servers" not in props and "kafka.topic" not in props


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

@pytest.mark.parametrize("path,_record_size,needs,jar", JSR223)
def test_script_helper_classes_are_reported_as_jars_to_supply(path, _record_size, needs, jar, capsys):
    main(["import-jmx", str(path)])
    out = capsys.readouterr().out
    assert "Plugins: none" not in out and needs in out
    assert yaml.safe_load(import_jmx(path).snippet())["workloads"][0]["plugins"] == [jar]
