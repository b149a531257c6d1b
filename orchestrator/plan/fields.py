"""Which plan field a path in the YAML refers to: walks the model types along a path of keys.

The loader uses it to list the valid keys next to an unknown one and the valid kinds of a union;
``--set`` overrides use it to tell model keys from free-form maps (``properties``, ``configs``).
"""

from __future__ import annotations

import types
from typing import Annotated, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from orchestrator.plan.models import Plan

PathKey = str | int


def _unwrap(tp: object) -> object:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def members(tp: object) -> list[object]:
    """The non-None alternatives of a union (or the type itself)."""
    tp = _unwrap(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in members(arg) if m is not type(None)]
    return [tp]


def union_tag(tp: object) -> tuple[str, list[str]] | None:
    """(discriminator key, its values) when ``tp`` is a union of models told apart by a Literal key."""
    models = [m for m in members(tp) if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(models) < 2:
        return None
    for key, field in models[0].model_fields.items():
        values = [_literal(m.model_fields.get(key)) for m in models]
        if all(v is not None for v in values):
            return field.alias or key, [v for v in values if v is not None]
    return None


def _literal(field: object) -> str | None:
    annotation = getattr(field, "annotation", None)
    if get_origin(annotation) is Literal and len(get_args(annotation)) == 1:
        return get_args(annotation)[0]
    return None


def resolve(tp: object, data: object) -> object:
    """The union member that ``data`` selects (by its discriminator), or ``tp`` itself."""
    choices = members(tp)
    if len(choices) == 1:
        return choices[0]
    tag = union_tag(tp)
    models = [m for m in choices if isinstance(m, type) and issubclass(m, BaseModel)]
    if isinstance(data, dict) and tag is not None:
        key, values = tag
        wanted = data.get(key, _default_tag(models, key))
        return next((m for m, v in zip(models, values) if v == wanted), tp)
    if isinstance(data, dict) and len(models) == 1:
        return models[0]
    return tp


def _default_tag(models: list[type[BaseModel]], key: str) -> str | None:
    """The tag of the member whose discriminator has a default (e.g. target kind 'local')."""
    for model in models:
        field = model.model_fields.get(key)
        if field is not None and not field.is_required():
            return field.default
    return None


def model_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts in YAML: aliases where set, else field names."""
    return [field.alias or name for name, field in model.model_fields.items()]


def field_type(model: type[BaseModel], key: str) -> object | None:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def type_at(path: tuple[PathKey, ...], data: object, root: object = Plan, chosen: bool = True) -> object | None:
    """The type at ``path`` in the plan data (the union member the data chose, unless not ``chosen``),
    or None when the path leaves the schema."""
    tp: object | None = root
    node = data
    for key in path:
        tp = step(resolve(tp, node), key)
        if tp is None:
            return None
        node = child(node, key)
    return resolve(tp, node) if chosen else tp


def owners(union: object, key: str) -> list[str]:
    """The discriminator values of the union members that accept ``key``."""
    tag = union_tag(union)
    if tag is None:
        return []
    models = [m for m in members(union) if is_model(m)]
    return [value for model, value in zip(models, tag[1]) if key in model_keys(model)]


def step(tp: object, key: PathKey) -> object | None:
    """The declared (unresolved) type one key below a resolved type, or None outside the schema."""
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return field_type(tp, str(key))
    if get_origin(tp) is list:
        return get_args(tp)[0]
    if get_origin(tp) is dict:
        return get_args(tp)[1]
    return None


def child(node: object, key: PathKey) -> object:
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return None


def is_model(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def is_free_map(tp: object) -> bool:
    """A map with keys of the user's choosing (client properties, topic configs, labels)."""
    return get_origin(_unwrap(tp)) is dict
