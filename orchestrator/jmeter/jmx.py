"""A JMeter test plan (JMX) as typed, line-numbered test elements.

Parsed with expat so every element keeps its line for error messages. A test element is any XML
element with a ``testclass`` attribute; its properties are flattened into ``name -> text`` (an
``Argument`` list such as a Java sampler's parameters contributes ``Argument.name -> Argument.value``,
and DI-Kafkameter's ``configKey``/``configValue`` rows contribute ``key -> value``).
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import InputError

PROPERTY_TAGS = {"stringProp", "boolProp", "intProp", "longProp", "doubleProp", "floatProp"}
_P_FUNCTION = re.compile(r"\$\{__P\(\s*([^,)]+?)\s*(?:,((?:\\.|[^)\\])*))?\)\}")
_SECRET_NAME = re.compile(r"pass(word)?|secret|jaas|credential|token|private.?key", re.IGNORECASE)
THREAD_GROUP_CLASSES = {"ThreadGroup", "SetupThreadGroup", "PostThreadGroup"}


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list["_Node"] = field(default_factory=list)
    text: str = ""


@dataclass(frozen=True)
class PropertyRead:
    """A ``${__P(name,default)}`` the plan reads."""

    name: str
    default: str | None
    line: int

    @property
    def secret(self) -> bool:
        return is_secret_name(self.name)


@dataclass(frozen=True)
class TestElement:
    testclass: str
    guiclass: str
    name: str
    enabled: bool
    line: int
    props: dict[str, str]
    paths: dict[str, tuple[str, ...]]  # property -> its path below the element (Taurus set-prop)
    thread_group: str | None  # the thread group it sits under, if any
    element_types: tuple[str, ...] = ()  # classes of nested elementProps (XStream instantiates them)

    @property
    def java_class(self) -> str | None:
        """The class a JavaSampler runs (``classname``)."""
        return self.props.get("classname") if self.testclass in ("JavaSampler", "org.apache.jmeter.protocol.java.sampler.JavaSampler") else None

    @property
    def short_class(self) -> str:
        return self.testclass.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Jmx:
    path: Path
    elements: list[TestElement]
    property_reads: list[PropertyRead]

    def of_class(self, *names: str) -> list[TestElement]:
        return [e for e in self.elements if e.testclass in names or e.short_class in names]

    @property
    def thread_groups(self) -> list[TestElement]:
        return [e for e in self.elements if e.short_class in THREAD_GROUP_CLASSES or e.testclass.endswith("ThreadGroup")]


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def parse_jmx(path: Path) -> Jmx:
    root = _parse_xml(path)
    if root.tag != "jmeterTestPlan":
        raise InputError(f"{path}:{root.line}: <{root.tag}> is not a JMeter test plan (expected <jmeterTestPlan>)")
    elements: list[TestElement] = []
    _collect(root, None, elements)
    if not elements:
        raise InputError(f"{path}:{root.line}: <jmeterTestPlan> holds no test elements")
    return Jmx(path=path, elements=elements, property_reads=_property_reads(root))


def _parse_xml(path: Path) -> _Node:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror}") from None
    parser = xml.parsers.expat.ParserCreate()
    stack: list[_Node] = []
    roots: list[_Node] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _Node(tag, attrs, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].text += text

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        raise InputError(f"{path}:{err.lineno}:{err.offset + 1}: malformed XML: {xml.parsers.expat.ErrorString(err.code)}") from None
    return roots[0]


def _collect(node: _Node, thread_group: str | None, out: list[TestElement]) -> None:
    """Walk hashTrees: an element's subtree is the <hashTree> that follows it."""
    last_group = thread_group
    for child in node.children:
        if child.tag == "hashTree":
            _collect(child, last_group, out)
            last_group = thread_group
            continue
        testclass = child.attrs.get("testclass")
        if testclass is None:
            continue
        element = TestElement(
            testclass=testclass, guiclass=child.attrs.get("guiclass", ""), name=child.attrs.get("testname", ""),
            enabled=child.attrs.get("enabled", "true") != "false", line=child.line, props={}, paths={},
            thread_group=thread_group, element_types=tuple(sorted(_element_types(child))))
        _flatten(child, (), element.props, element.paths)
        out.append(element)
        if element.short_class in THREAD_GROUP_CLASSES or testclass.endswith("ThreadGroup"):
            last_group = element.name


def _flatten(node: _Node, where: tuple[str, ...], props: dict[str, str], paths: dict[str, tuple[str, ...]]) -> None:
    for child in node.children:
        name = child.attrs.get("name")
        if child.tag in PROPERTY_TAGS:
            if name is None:  # <doubleProp><name>throughput</name><value>600.0</value></doubleProp>
                parts = {c.tag: c.text for c in child.children}
                name, child_text = parts.get("name"), parts.get("value", "")
            else:
                child_text = child.text
            if name and name not in props:
                props[name], paths[name] = child_text, (*where, name)
        elif child.tag in ("elementProp", "collectionProp"):
            pair = _pair(child)
            if pair:
                key, value_prop = pair
                props.setdefault(key, _prop_text(child, value_prop))
                paths.setdefault(key, (*where, name or "", value_prop))
            else:
                _flatten(child, (*where, name or ""), props, paths)


def _pair(node: _Node) -> tuple[str, str] | None:
    """(key, name of the value property) for Argument and configKey/configValue rows."""
    for key, value in (("Argument.name", "Argument.value"), ("configKey", "configValue")):
        text = _prop_text(node, key)
        if text is not None:
            return text, value
    return None


def _prop_text(node: _Node, name: str) -> str | None:
    return next((c.text for c in node.children if c.tag in PROPERTY_TAGS and c.attrs.get("name") == name), None)


def _element_types(node: _Node) -> set[str]:
    found: set[str] = set()
    for child in node.children:
        kind = child.attrs.get("elementType", "")
        if "." in kind:
            found.add(kind)
        if child.tag in ("elementProp", "collectionProp"):
            found |= _element_types(child)
    return found


def _property_reads(root: _Node) -> list[PropertyRead]:
    reads: dict[str, PropertyRead] = {}
    pending = [root]
    while pending:
        node = pending.pop()
        pending.extend(node.children)
        for text in (node.text, *node.attrs.values()):
            for match in _P_FUNCTION.finditer(text):
                name = match.group(1)
                default = match.group(2).replace("\\,", ",").strip() if match.group(2) is not None else None
                if name not in reads or reads[name].line > node.line:
                    reads[name] = PropertyRead(name, default, node.line)
    return sorted(reads.values(), key=lambda r: (r.line, r.name))
