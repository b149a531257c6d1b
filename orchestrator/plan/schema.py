"""The plan's JSON Schema, for editors (yaml-language-server) and ``orchestrate schema``.

Durations, rates and sizes accept both numbers and strings with units, as the loader does.
"""

from __future__ import annotations

from orchestrator.plan.models import Plan

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def plan_json_schema() -> dict:
    schema = Plan.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema, "title": "orchestrate plan"}
