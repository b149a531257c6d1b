import zipfile

import pytest

from orchestrator.errors import ToolMissingError
from orchestrator.jmeter.plugins import classes_in, family_of, missing_class_hint, resolve_plugins


def _jar(path, *classes):
    with zipfile.ZipFile(path, "w") as jar:
        for name in classes:
            jar.writestr(name.replace(".", "/") + ".class", b"")
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    return path


def test_classes_in_lists_top_level_classes(tmp_path):
    jar = _jar(tmp_path / "p.jar", "com.gslab.pepper.sampler.PepperBoxKafkaSampler", "com.gslab.pepper.X$Inner")
    assert classes_in([jar]) == {"com.gslab.pepper.sampler.PepperBoxKafkaSampler"}


def test_unreadable_jar_is_a_missing_tool(tmp_path):
    bad = tmp_path / "bad.jar"
    bad.write_text("not a zip")
    with pytest.raises(ToolMissingError, match="bad.jar: not a readable jar"):
        classes_in([bad])


def test_jar_paths_resolve_relative_to_the_plan(tmp_path):
    _jar(tmp_path / "plugin.jar", "a.B")
    assert resolve_plugins(["plugin.jar"], tmp_path).plugin == [tmp_path / "plugin.jar"]


def test_neither_jar_nor_coordinates_is_rejected(tmp_path):
    with pytest.raises(ToolMissingError, match="'missing.jar': no such jar"):
        resolve_plugins(["missing.jar"], tmp_path)


@pytest.mark.parametrize("cls,family", [
    ("com.gslab.pepper.sampler.PepperBoxKafkaSampler", "Pepper-Box"),
    ("co.signal.kafkameter.KafkaProducerSampler", "kafkameter"),
    ("com.di.jmeter.kafka.sampler.KafkaProducerSampler", "DI-Kafkameter"),
    ("com.sngular.kloadgen.sampler.KafkaProducerSampler", "KLoadGen"),
])
def test_families_by_package(cls, family):
    assert family_of(cls).name == family


def test_hint_names_class_plugin_and_how_to_supply_it():
    hint = missing_class_hint("com.gslab.pepper.sampler.PepperBoxKafkaSampler", "legacy")
    assert hint.startswith("class com.gslab.pepper.sampler.PepperBoxKafkaSampler (Pepper-Box) is not on JMeter's classpath")
    assert "plugins: [path/to/plugin.jar]" in hint and "not on Maven Central" in hint
    assert "plugins: [com.sngular:kloadgen:<version>]" in missing_class_hint("com.sngular.kloadgen.X", "w")
