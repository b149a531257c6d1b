"""The plan's JSON Schema, for editors (yaml-language-server) and ``orchestrate schema``.

Durations, rates and sizes accept both numbers and strings with units, as the loader does.

Tagged unions (workloads and phases by ``kind``) are written as ``if kind is X then X's schema``
rather than Pydantic's ``oneOf`` with the OpenAPI ``discriminator`` keyword: JSON Schema validators
ignore ``discriminator``, so with ``oneOf`` a bad producer field was reported against every branch
(an editor talked about the consumer's fields); with ``if``/``then`` only the branch the ``kind``
names is checked, and an unknown ``kind`` is one error naming the kinds there are.
"""

from __future__ import annotations

from orchestrator.plan.models import Plan

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _tagged(node: dict) -> dict:
    """``oneOf`` + ``discriminator`` ▶ the tag's enum and one ``if``/``then`` per tag value."""
    tag = node["discriminator"]["propertyName"]
    value_of = {ref: value for value, ref in node["discriminator"]["mapping"].items()}
    branches = [(value_of[option["$ref"]], option["$ref"]) for option in node["oneOf"]]  # in the model's order
    rest = {k: v for k, v in node.items() if k not in ("discriminator", "oneOf")}
    return {**rest, "type": "object", "required": [tag], "properties": {tag: {"enum": sorted(value_of.values())}},
            "allOf": [{"if": {"properties": {tag: {"const": value}}, "required": [tag]}, "then": {"$ref": ref}}
                      for value, ref in branches]}


def _rewrite_tagged(node: object) -> object:
    if isinstance(node, dict):
        node = {k: _rewrite_tagged(v) for k, v in node.items()}
        return _tagged(node) if "discriminator" in node and "oneOf" in node else node
    if isinstance(node, list):
        return [_rewrite_tagged(v) for v in node]
    return node


def plan_json_schema() -> dict:
    schema = _rewrite_tagged(Plan.model_json_schema(by_alias=True, mode="validation"))
    return {"$schema": SCHEMA_DIALECT, **schema, "title": "orchestrate plan"}
