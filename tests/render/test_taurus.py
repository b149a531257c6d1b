from pathlib import Path

import pytest
import yaml

from orchestrator.render.taurus import TaurusConfig, render_taurus


@pytest.fixture
def config() -> TaurusConfig:
    return TaurusConfig(
        workload="orders", script=Path("/runs/r1/rendered/jmeter/orders/orders.jmx"),
        artifacts_dir=Path("/runs/r1/raw/jmeter/orders"), jmeter=Path("/opt/jmeter/bin/jmeter"),
        properties={"kafka.bootstrap.servers": "127.0.0.1:9092", "orchestrate.sasl.password_env": "KAFKA_PASSWORD",
                    "kafka.ssl.endpoint.identification.algorithm": "", "odd": "a: b # <c> & 'd'"},
        modifications={"set-prop": {"Kafka Request>arguments>Arguments.arguments>kafka_topic>Argument.value": "t1"}},
        load={"concurrency": 3, "ramp-up": "5s", "hold-for": "60s"})


def test_yaml_matches_golden(config, golden):
    golden("taurus.yml", render_taurus(config))


def test_yaml_is_well_formed_and_keeps_values_verbatim(config):
    doc = yaml.safe_load(render_taurus(config))
    scenario = doc["scenarios"]["orders"]
    assert scenario["script"] == str(config.script)
    assert scenario["properties"] == config.properties
    assert scenario["modifications"] == config.modifications
    assert doc["execution"][0] == {"executor": "jmeter", "scenario": "orders", "write-xml-jtl": "none",
                                   "concurrency": 3, "ramp-up": "5s", "hold-for": "60s"}


def test_offline_recipe_is_in_place(config):
    doc = yaml.safe_load(render_taurus(config))
    jmeter = doc["modules"]["jmeter"]
    assert doc["settings"]["check-updates"] is False
    assert jmeter["path"] == "/opt/jmeter/bin/jmeter" and jmeter["version"] == "5.6.3"
    assert jmeter["detect-plugins"] is False and jmeter["~plugins"] == []
    assert jmeter["fix-jars"] is False and jmeter["force-ctg"] is False
    assert doc["~services"] == [] and doc["~reporting"] == [{"module": "final-stats"}]


def test_jmeter_udp_shutdown_listener_is_off(config):
    doc = yaml.safe_load(render_taurus(config))
    assert doc["modules"]["jmeter"]["cmdline"] == "-Jjmeterengine.nongui.port=0"


def test_results_go_to_the_artifacts_dir_as_kpi_jtl_only(config):
    doc = yaml.safe_load(render_taurus(config))
    assert doc["settings"]["artifacts-dir"] == str(config.artifacts_dir)
    assert doc["execution"][0]["write-xml-jtl"] == "none"


def test_no_properties_is_an_empty_mapping_not_null(config):
    from dataclasses import replace

    doc = yaml.safe_load(render_taurus(replace(config, properties={})))
    assert doc["scenarios"]["orders"]["properties"] == {}


def test_distributed_execution_lists_the_servers_and_controller_system_properties(config):
    from dataclasses import replace

    doc = yaml.safe_load(render_taurus(replace(config, distributed=("10.0.0.5:1099", "10.0.0.6:1099"),
                                               system_properties={"java.rmi.server.hostname": "10.0.0.1"})))
    assert doc["execution"][0]["distributed"] == ["10.0.0.5:1099", "10.0.0.6:1099"]
    assert doc["modules"]["jmeter"]["system-properties"] == {"java.rmi.server.hostname": "10.0.0.1"}


def test_local_execution_has_no_distributed_key(config):
    doc = yaml.safe_load(render_taurus(config))
    assert "distributed" not in doc["execution"][0] and "system-properties" not in doc["modules"]["jmeter"]


def test_plan_listeners_are_disabled_unless_the_generated_producer_keeps_its_own(config):
    from dataclasses import replace

    assert "disable-listeners" not in yaml.safe_load(render_taurus(config))["scenarios"]["orders"]
    kept = yaml.safe_load(render_taurus(replace(config, keep_listeners=True)))
    assert kept["scenarios"]["orders"]["disable-listeners"] is False
