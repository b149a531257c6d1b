"""What a JMX does with Kafka, and how the orchestrator points it at a plan's target.

Shared by ``import-jmx`` (which reports it) and script workloads (which apply it), so what the
importer promises to override is what a run overrides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.errors import InputError
from orchestrator.jmeter.jmx import Jmx, TestElement, is_secret_name
from orchestrator.jmeter.plugins import FAMILIES, PluginFamily, family_of

BROKER_FIELDS = {"bootstrap.servers", "kafka.bootstrap.servers", "kafka_brokers", "kafkaBrokers", "kafka.brokers",
                 "brokers", "bootstrapServers"}
TOPIC_FIELDS = {"kafka.topic.name", "kafka_topic", "kafkaTopic", "topic", "kafka.topic", "topicName"}
_SECURITY_FIELD = re.compile(r"security|sasl|ssl|jaas|kerberos|keystore|truststore|password|krb5", re.IGNORECASE)
_VARIABLE = re.compile(r"\$\{([\w.-]+)\}")
_P_NAME = re.compile(r"\$\{__P\(\s*([^,)]+?)\s*[,)]")
_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+?)(?:\.\*)?\s*;?\s*$", re.MULTILINE)
_PLATFORM = ("java.", "javax.", "groovy.", "org.apache.jmeter.", "org.apache.kafka.", "org.codehaus.groovy.", "org.slf4j.")
JSR223 = "JSR223 + kafka-clients"
SELECTOR_UNSAFE = re.compile(r"['>]")


@dataclass(frozen=True)
class KafkaElement:
    family: str  # a PluginFamily name or JSR223
    element: TestElement
    role: str  # sampler | config | script

    @property
    def brokers(self) -> str | None:
        return next((self.element.props[k] for k in self.element.props if k in BROKER_FIELDS), None)

    @property
    def topic(self) -> str | None:
        return next((self.element.props[k] for k in self.element.props if k in TOPIC_FIELDS), None)

    def security(self) -> dict[str, str]:
        return {k: v for k, v in self.element.props.items() if _SECURITY_FIELD.search(k)}


@dataclass(frozen=True)
class Override:
    what: str  # brokers | topic
    via: str  # property | set-prop
    key: str  # JMeter property name, or Taurus set-prop selector
    line: int


@dataclass(frozen=True)
class RequiredClass:
    name: str
    line: int


@dataclass(frozen=True)
class Analysis:
    jmx: Jmx
    kafka: list[KafkaElement]
    other_plugins: list[TestElement]
    overrides: list[Override]
    required: list[RequiredClass]
    variables: dict[str, str]

    @property
    def families(self) -> list[PluginFamily]:
        names = {k.family for k in self.kafka} | {family_of(e.testclass).name for e in self.other_plugins if family_of(e.testclass)}
        return [f for f in FAMILIES if f.name in names]

    @property
    def unknown_classes(self) -> list[RequiredClass]:
        """Required classes from no known plugin and not in stock JMeter: a jar the user must supply
        (a JSR223 script's own helper classes, say)."""
        listed = {e.testclass for e in self.other_plugins}
        return [r for r in self.required if family_of(r.name) is None and r.name not in listed]

    @property
    def timers(self) -> list[TestElement]:
        return [e for e in self.jmx.elements if "Timer" in e.short_class]


def analyze(jmx: Jmx) -> Analysis:
    if not jmx.thread_groups:
        raise InputError(f"{jmx.path}: no thread group: JMeter runs nothing without a ThreadGroup (or setUp/tearDown thread group)")
    kafka: list[KafkaElement] = []
    other: list[TestElement] = []
    unknown: list[tuple[str, TestElement]] = []
    for element in jmx.elements:
        found = _kafka_element(element)
        if found:
            kafka.append(found)
            continue
        cls = element.java_class or element.testclass
        if _is_core(cls):
            continue
        if family_of(cls):
            other.append(element)
        else:
            unknown.append((cls, element))
    if unknown and not kafka:
        cls, element = unknown[0]
        raise InputError(f"{jmx.path}:{element.line}: element {element.name!r}: unknown class {cls}: "
                         "neither a JMeter core class nor a known Kafka plugin "
                         f"({', '.join(f.name for f in FAMILIES if f.kafka)}, JSR223 with kafka-clients)")
    variables = _user_variables(jmx)
    return Analysis(jmx=jmx, kafka=kafka, other_plugins=other + [e for _, e in unknown],
                    overrides=_overrides(jmx, kafka, variables), required=_required_classes(jmx), variables=variables)


def display_value(name: str, value: str | None) -> str:
    """A value fit to print: secrets (by name, or a JAAS line with a password) are only said to exist."""
    if value is None:
        return "(not set)"
    if is_secret_name(name) or "password=" in value.lower():
        return "present (redacted)" if value.strip() else "(empty)"
    return value


def _kafka_element(element: TestElement) -> KafkaElement | None:
    cls = element.java_class or element.testclass
    family = family_of(cls)
    if family and family.kafka:
        role = "sampler" if element.java_class or "Sampler" in element.short_class else "config"
        return KafkaElement(family.name, element, role)
    if element.short_class.startswith("JSR223") and re.search(r"kafka", element.props.get("script", ""), re.IGNORECASE):
        return KafkaElement(JSR223, element, "script")
    return None


def _is_core(cls: str) -> bool:
    return "." not in cls or cls.startswith("org.apache.jmeter.")


def _user_variables(jmx: Jmx) -> dict[str, str]:
    """User Defined Variables (``Arguments`` elements), as written."""
    out: dict[str, str] = {}
    for element in jmx.elements:
        if element.short_class in ("Arguments", "TestPlan"):
            out.update({k: v for k, v in element.props.items() if not k.startswith(("TestPlan.", "Arguments."))})
    return out


def resolve(value: str, variables: dict[str, str], depth: int = 3) -> str:
    """``${var}`` replaced by its User Defined Variable, a few levels deep (functions are left as they are)."""
    for _ in range(depth):
        replaced = _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
        if replaced == value:
            break
        value = replaced
    return value


def _overrides(jmx: Jmx, kafka: list[KafkaElement], variables: dict[str, str]) -> list[Override]:
    found: dict[tuple[str, str], Override] = {}
    for read in jmx.property_reads:
        what = "brokers" if read.name in BROKER_FIELDS else "topic" if read.name in TOPIC_FIELDS else None
        if what:
            found.setdefault((what, read.name), Override(what, "property", read.name, read.line))
    for item in kafka:
        element = item.element
        for field_name, value in element.props.items():
            what = "brokers" if field_name in BROKER_FIELDS else "topic" if field_name in TOPIC_FIELDS else None
            if what is None:
                continue
            prop = _P_NAME.search(resolve(value, variables))
            if prop:
                found.setdefault((what, prop.group(1)), Override(what, "property", prop.group(1), element.line))
                continue
            path = (element.name, *element.paths[field_name])
            if all(part and not SELECTOR_UNSAFE.search(part) for part in path):
                key = ">".join(path)
                found.setdefault((what, key), Override(what, "set-prop", key, element.line))
    return list(found.values())


def script_imports(script: str) -> list[str]:
    """The classes and packages a JSR223 (Groovy/Java) script imports, in order."""
    return _IMPORT.findall(script)


def _required_classes(jmx: Jmx) -> list[RequiredClass]:
    """Classes JMeter must load to run this plan: test element classes and nested element types
    (XStream loads disabled elements too), and for enabled elements the Java sampler client and
    what JSR223 scripts import."""
    out: dict[str, RequiredClass] = {}
    for element in jmx.elements:
        names = [element.testclass, *element.element_types]
        if element.enabled:
            names.append(element.java_class or "")
        if element.enabled and element.short_class.startswith("JSR223"):
            names += script_imports(element.props.get("script", ""))
        for name in names:
            if name and "." in name and not name.startswith(_PLATFORM):
                out.setdefault(name, RequiredClass(name, element.line))
    return list(out.values())
