"""docs/summary.schema.json is generated from ``Summary.model_json_schema()``; regenerate with
``.venv/bin/python -c "import json; from orchestrator.summary import Summary; print(json.dumps(Summary.model_json_schema(), indent=2))" > docs/summary.schema.json``."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.summary import Summary

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "summary.schema.json"


def test_published_schema_is_current():
    assert json.loads(SCHEMA.read_text()) == Summary.model_json_schema()
