"""YAML text ▶ plain Python data plus the line and column of every key and value.

Built on PyYAML's node tree (``compose``), so positions survive; scalars are constructed with the
safe loader's own rules. Duplicate keys, recursive aliases and runaway alias expansion are errors.
Problems are returned as ``PlanIssue``s rather than raised one at a time, so a file with several
duplicate keys reports all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orchestrator.errors import PlanError, PlanIssue

PathKey = str | int
Where = tuple[int, int]  # 1-based line and column
MAX_DEPTH = 64
MAX_NODES = 20_000  # stops alias bombs ("billion laughs") long before memory does
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Spot:
    """Where a key (or a list item) and its value start."""

    key: Where
    value: Where


@dataclass
class Located:
    """Plan data with the position of every node, keyed by its path of mapping keys and list indexes."""

    file: str
    data: object
    spots: dict[tuple[PathKey, ...], Spot] = field(default_factory=dict)
    origins: dict[tuple[PathKey, ...], str] = field(default_factory=dict)  # path ▶ the --set that made it

    def where(self, path: tuple[PathKey, ...], at_key: bool) -> Where:
        """The position of ``path``, or of its nearest located ancestor's key."""
        for cut in range(len(path), -1, -1):
            spot = self.spots.get(path[:cut])
            if spot is not None:
                return spot.value if cut == len(path) and not at_key else spot.key
        return 1, 1

    def value(self, path: tuple[PathKey, ...], missing: object = None) -> object:
        """The data at ``path`` as written (after overrides), or ``missing``."""
        node = self.data
        for key in path:
            if isinstance(node, dict) and key in node or isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                return missing
        return node

    def issue(self, path: tuple[PathKey, ...], message: str, at_key: bool | None = None) -> PlanIssue:
        """An issue at ``path``: at its key for sections and lists (or when ``at_key``), else at its value."""
        if at_key is None:
            at_key = isinstance(self.value(path), (dict, list))
        line, column = self.where(path, at_key)
        origin = next((o for p, o in self.origins.items() if path[:len(p)] == p), None)
        if origin is not None:
            message = f"{message} (from --set {origin})"
        return PlanIssue(self.file, line, column, ".".join(map(str, path)), message)


def _mark(node: Node) -> Where:
    return node.start_mark.line + 1, node.start_mark.column + 1


def read_yaml(path: Path) -> Located:
    """Parse a plan file; raises PlanError for unreadable files and invalid YAML."""
    file = str(path)
    text = _read_text(path)
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as err:
        raise PlanError([_yaml_issue(file, err)]) from None
    except yaml.reader.ReaderError as err:
        line, column = _position(text, err.position)
        raise PlanError([PlanIssue(file, line, column, "", f"invalid character {_char(err.character)}: {err.reason}")]) from None
    except RecursionError:
        raise PlanError([PlanIssue(file, 1, 1, "", "the YAML is nested too deeply")]) from None
    if root is None:
        raise PlanError([PlanIssue(file, 1, 1, "", "the plan is empty; it needs at least metadata, workloads and phases")])
    if not isinstance(root, MappingNode):
        line, column = _mark(root)
        raise PlanError([PlanIssue(file, line, column, "",
                                   f"a plan must be a mapping of sections (metadata, workloads, phases, ...), got {_kind(root)}")])
    builder = _Builder(file, loader)
    located = Located(file, None, {(): Spot((1, 1), (1, 1))})
    located.data = builder.build(root, (), located.spots)
    if builder.issues:
        raise PlanError(builder.issues)
    return located


def _read_text(path: Path) -> str:
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PlanError([PlanIssue(file, 1, 1, "", "no such file")]) from None
    except IsADirectoryError:
        raise PlanError([PlanIssue(file, 1, 1, "", "is a directory, not a plan file")]) from None
    except OSError as err:
        raise PlanError([PlanIssue(file, 1, 1, "", f"cannot read: {err.strerror}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise PlanError([PlanIssue(file, line, column, "", f"not UTF-8 text (byte 0x{raw[err.start]:02x})")]) from None


def _position(text: str, index: int) -> Where:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _yaml_issue(file: str, err: yaml.MarkedYAMLError) -> PlanIssue:
    mark = err.problem_mark or err.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = " ".join(part for part in (err.context, err.problem) if part)
    if "'\\t'" in message:
        message += " (YAML indents with spaces, not tabs)"
    return PlanIssue(file, line, column, "", f"invalid YAML: {message}")


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode):
        return f"the scalar {node.value[:40]!r}"
    return "a mapping"


class _Builder:
    """Walks the node tree once, building data and recording positions and problems."""

    def __init__(self, file: str, loader: yaml.SafeLoader):
        self.file, self.loader = file, loader
        self.issues: list[PlanIssue] = []
        self.count = 0
        self.active: set[int] = set()  # nodes on the current path, to catch recursive aliases

    def problem(self, node: Node, path: tuple[PathKey, ...], message: str) -> None:
        line, column = _mark(node)
        self.issues.append(PlanIssue(self.file, line, column, ".".join(map(str, path)), message))

    def build(self, node: Node, path: tuple[PathKey, ...], spots: dict) -> object:
        self.count += 1
        if self.count > MAX_NODES:
            if self.count == MAX_NODES + 1:
                self.problem(node, path, f"the plan expands to more than {MAX_NODES} values (alias expansion?)")
            return None
        if len(path) > MAX_DEPTH:
            self.problem(node, path[:3], f"nested deeper than {MAX_DEPTH} levels")
            return None
        if id(node) in self.active:
            self.problem(node, path, "a recursive alias refers to itself")
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self.sequence(node, path, spots)
            return self.mapping(node, path, spots)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: ScalarNode, path: tuple[PathKey, ...]) -> object:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as err:
            self.problem(node, path, f"cannot read this value: {getattr(err, 'problem', None) or err}")
            return None

    def sequence(self, node: SequenceNode, path: tuple[PathKey, ...], spots: dict) -> list:
        items = []
        for i, item in enumerate(node.value):
            spots[(*path, i)] = Spot(_mark(item), _mark(item))
            items.append(self.build(item, (*path, i), spots))
        return items

    def mapping(self, node: MappingNode, path: tuple[PathKey, ...], spots: dict) -> dict:
        out: dict[str, object] = {}
        merged: dict[str, object] = {}
        first: dict[str, int] = {}
        # merged keys first, so the positions of keys written here win over the anchor's
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self.merge(value_node, path, spots))
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, path, "a key must be a plain name, not a list or mapping")
                continue
            key = key_node.value  # the text as written: 'on', 'yes' and '1' stay strings
            child = (*path, key)
            if key in first:
                self.problem(key_node, child, f"duplicate key {key!r} (first given on line {first[key]})")
                continue
            first[key] = _mark(key_node)[0]
            spots[child] = Spot(_mark(key_node), _mark(value_node))
            out[key] = self.build(value_node, child, spots)
        return {**merged, **out}

    def merge(self, node: Node, path: tuple[PathKey, ...], spots: dict) -> dict:
        """A YAML merge key (<<: *defaults): one mapping or a list of them; later keys win."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[str, object] = {}
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problem(source, path, "'<<' merges mappings only")
                continue
            merged.update(self.build(source, path, spots))
        return merged


def _char(character: int | str) -> str:
    return repr(chr(character) if isinstance(character, int) else character)
