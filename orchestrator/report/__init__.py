"""The report stage: SLO verdicts, summary.json, junit.xml, timeline CSV, OMB JSON, HTML; compare."""

from orchestrator.report.build import build

__all__ = ["build"]
