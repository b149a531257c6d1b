"""``--set PATH=VALUE`` overrides, applied to the plan's YAML data before validation.

PATH is dotted: mapping keys, list items by index or by their ``name`` (``workloads.producer.rate``),
and in free-form maps (``properties``, ``configs``, ``labels``) the rest of the path is one key, so
``workloads.producer.properties.linger.ms=5`` sets the client property ``linger.ms``. VALUE is read
as YAML: ``10s``, ``3``, ``true``, ``null``, ``[1k/s, 2k/s]``. Validation errors in an overridden
value name the override; a path that leaves the schema is a UsageError.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from orchestrator.errors import UsageError
from orchestrator.plan import fields
from orchestrator.plan.checks import did_you_mean
from orchestrator.plan.models import Plan
from orchestrator.plan.yamlsource import Located, PathKey


def apply_overrides(located: Located, overrides: Sequence[str]) -> None:
    for text in overrides:
        dotted, sep, raw = text.partition("=")
        if not sep or not dotted.strip():
            raise UsageError(f"--set {text}: expected PATH=VALUE, e.g. --set phases.0.duration=10s")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            raise UsageError(f"--set {text}: the value is not valid YAML ({getattr(err, 'problem', err)})") from None
        path = _resolve(text, located.data, dotted.strip().split("."))
        _assign(text, located.data, path, value)
        located.origins[path] = text


def _resolve(text: str, data: object, segments: list[str]) -> tuple[PathKey, ...]:
    """The data path that ``segments`` address; list items by index or name."""
    path: list[PathKey] = []
    node, tp = data, Plan
    while segments:
        segment = segments.pop(0)
        here = ".".join(map(str, path)) or "the plan"
        if not segment:
            raise UsageError(f"--set {text}: empty path segment")
        tp = fields.resolve(tp, node)
        if fields.is_free_map(tp):
            segment, segments = ".".join([segment, *segments]), []
        elif _is_list(tp):
            segment = _item(text, node, segment, here)
        elif not fields.is_model(tp):
            raise UsageError(f"--set {text}: {here} is a single value; it has no {segment!r}")
        elif fields.field_type(tp, segment) is None:
            raise UsageError(f"--set {text}: unknown key {segment!r} in {here}"
                             f"{did_you_mean(segment, fields.model_keys(tp))}")
        path.append(segment)
        tp = fields.type_at((segment,), node, root=tp)
        node = fields.child(node, segment)
    return tuple(path)


def _is_list(tp: object) -> bool:
    return getattr(tp, "__origin__", None) is list


def _item(text: str, node: object, segment: str, here: str) -> int:
    items = node if isinstance(node, list) else []
    if segment.isdigit():
        if int(segment) >= len(items):
            raise UsageError(f"--set {text}: {here} has {len(items)} item(s); index {segment} is out of range")
        return int(segment)
    names = [item.get("name") for item in items if isinstance(item, dict)]
    if segment not in names:
        listed = ", ".join(map(str, names)) or "none"
        raise UsageError(f"--set {text}: no item named {segment!r} in {here} (names: {listed})"
                         f"{did_you_mean(segment, [str(n) for n in names])}")
    return names.index(segment)


def _assign(text: str, data: object, path: tuple[PathKey, ...], value: object) -> None:
    node = data
    for depth, key in enumerate(path[:-1]):
        if isinstance(node, dict) and node.get(key) is None:
            node[key] = {}
        node = node[key]
        shape = list if isinstance(path[depth + 1], int) else dict
        if not isinstance(node, shape):
            where = ".".join(map(str, path[:depth + 1]))
            wanted = "a list" if shape is list else "a mapping"
            raise UsageError(f"--set {text}: {where} is {node!r} in the plan, not {wanted}")
    node[path[-1]] = value
