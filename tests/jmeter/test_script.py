import re
import zipfile
from pathlib import Path

import pytest

from orchestrator.errors import ToolMissingError
from orchestrator.jmeter.analysis import analyze
from orchestrator.jmeter.jmx import parse_jmx
from orchestrator.jmeter.plugins import PluginJars
from orchestrator.jmeter.script import build_overlay, check_classes, load_settings, target_overrides
from orchestrator.plan.models import Plan
from tests.jmx_fixtures import own, public


def _plan(**workload) -> Plan:
    return Plan.model_validate({
        "metadata": {"name": "p"}, "topics": [{"name": "t1"}],
        "workloads": [{"name": "legacy", "kind": "script", "script": "x.jmx", **workload}],
        "phases": [{"name": "s", "kind": "steady", "duration": "90s"}]})


def _fake_home(tmp_path: Path) -> Path:
    home = tmp_path / "jmeter"
    for sub in ("bin", "lib/ext"):
        (home / sub).mkdir(parents=True)
    (home / "bin" / "ApacheJMeter.jar").write_bytes(b"jar")
    (home / "bin" / "jmeter.properties").write_text("")
    for name in ("lib/kafka-clients-4.1.1.jar", "lib/ext/ApacheJMeter_core.jar"):
        with zipfile.ZipFile(home / name, "w") as jar:
            jar.writestr("org/apache/Thing.class", b"")
    return home


@pytest.mark.parametrize("path", [own("di-kafkameter.jmx"), public("rollno748_di-kafkameter.jmx")])
def test_overrides_set_properties_and_fields(path):
    analysis = analyze(parse_jmx(path))
    props, set_prop = target_overrides(analysis, "127.0.0.1:9999", "t1")
    assert props == {"kafka.brokers": "127.0.0.1:9999"}
    assert set_prop["Kafka Producer Sampler>kafkaTopic"] == "t1"


@pytest.mark.parametrize("path", [own("kafkameter.jmx"), public("BrightTag_kafkameter.jmx")])
def test_topic_is_left_alone_when_the_workload_names_none(path):
    analysis = analyze(parse_jmx(path))
    _, set_prop = target_overrides(analysis, "b:1", None)
    assert list(set_prop.values()) == ["b:1"]


def test_load_settings_default_to_the_plan_duration_and_the_scripts_threads():
    workload = _plan().workloads[0]
    assert load_settings(_plan(), workload) == {"hold-for": "90s"}


def test_load_settings_apply_explicit_threads_ramp_and_duration():
    plan = _plan(instances=8, ramp_up="10s", duration="1m")
    assert load_settings(plan, plan.workloads[0]) == {"hold-for": "60s", "concurrency": 8, "ramp-up": "10s"}


def test_overlay_links_jmeter_adds_plugins_and_keeps_jmeters_libraries(tmp_path):
    home = _fake_home(tmp_path)
    plugin, dep, clash = tmp_path / "pepper.jar", tmp_path / "guava-31.jar", tmp_path / "kafka-clients-3.1.0.jar"
    for jar in (plugin, dep, clash):
        jar.write_bytes(b"")
    overlay = build_overlay(home, PluginJars([plugin], [dep, clash]), tmp_path / "overlay")
    assert not (overlay / "bin" / "ApacheJMeter.jar").is_symlink()  # JMeter finds its home from this jar
    assert (overlay / "lib" / "ext" / "pepper.jar").resolve() == plugin
    assert (overlay / "lib" / "guava-31.jar").is_symlink()
    assert not (overlay / "lib" / "kafka-clients-3.1.0.jar").exists()


@pytest.mark.parametrize("path", [own("pepper-box.jmx"), public("GSLabDev_pepper-box.jmx")])
def test_missing_plugin_class_is_reported_before_running(tmp_path, path):
    analysis = analyze(parse_jmx(path))
    with pytest.raises(ToolMissingError, match=rf"{re.escape(path.name)}:\d+: class com.gslab.pepper.\S+ \(Pepper-Box\) "
                                               r"is not on JMeter's classpath; add its jar to workload 'legacy'"):
        check_classes(analysis, _fake_home(tmp_path), "legacy")
