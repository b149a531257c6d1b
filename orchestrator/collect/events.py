"""raw/events.jsonl ▶ run events and phase spans.

One JSON object per line: ``{"ts": <epoch s>, "kind": "...", "name": "...", "detail": "..."}``
(kinds as in ``orchestrator.summary.Event``). ``phase_start``/``phase_end`` pairs, matched by name,
become ``PhaseSpan``s; a phase without an end (the run was interrupted) keeps ``end=None``.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.jsonlines import MALFORMED, json_lines
from orchestrator.summary import Event, PhaseSpan


def read_events(path: Path, diag: Diagnostics) -> list[Event]:
    if not path.exists():
        diag.note(path, "missing: no phase or fault markers")
        return []
    events: list[Event] = []
    for line_no, record in json_lines(path, diag):
        try:
            events.append(Event(ts=float(record["ts"]), kind=str(record["kind"]),
                                name=str(record.get("name", "")), detail=str(record.get("detail", ""))))
        except (ValueError, KeyError, TypeError):
            diag.count(path, MALFORMED, line_no)
    events.sort(key=lambda e: e.ts)
    return events


def phase_spans(events: list[Event], kinds: dict[str, str]) -> list[PhaseSpan]:
    """Spans in start order; ``kinds`` maps phase name to its plan kind (warmup, steady, ...)."""
    spans: list[PhaseSpan] = []
    open_spans: dict[str, int] = {}
    for event in events:
        if event.kind == "phase_start":
            open_spans[event.name] = len(spans)
            spans.append(PhaseSpan(name=event.name, kind=kinds.get(event.name, ""), start=event.ts))
        elif event.kind == "phase_end" and event.name in open_spans:
            index = open_spans.pop(event.name)
            spans[index] = spans[index].model_copy(update={"end": event.ts})
    return spans
