"""docs/plan.md carries a field reference generated from the schema; it must never drift."""

from __future__ import annotations

import re
from pathlib import Path

from orchestrator.plan.models import METRIC_PATTERN
from orchestrator.plan.reference import BEGIN, END, reference_markdown
from orchestrator.plan.schema import plan_json_schema

DOC = Path(__file__).parents[2] / "docs" / "plan.md"


def test_generated_reference_is_up_to_date() -> None:
    """Regenerate with: .venv/bin/python -m orchestrator.plan.reference docs/plan.md"""
    text = DOC.read_text()
    generated = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    assert generated.strip() == reference_markdown().strip()


def test_every_field_of_every_model_is_documented() -> None:
    text = DOC.read_text()
    schema = plan_json_schema()
    models = [schema, *schema["$defs"].values()]
    missing = [key for model in models for key in model.get("properties", {})
               if f".{key}` |" not in text and f"| `{key}` |" not in text]
    assert missing == []


def test_every_metric_name_part_is_documented() -> None:
    """Each family and leaf of METRIC_PATTERN (produce, throughput_mb, p999, aqu_sz, ...) is in the metric table."""
    table = DOC.read_text().split("## SLOs", 1)[1].split("## Faults", 1)[0]
    parts = set(re.findall(r"[a-z][a-z0-9_]*", METRIC_PATTERN.pattern))
    assert sorted(p for p in parts if p not in table) == []
