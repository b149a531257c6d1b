from __future__ import annotations

import json

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.events import read_events
from orchestrator.events import EventLog


def test_events_append_one_json_line_each(tmp_path) -> None:
    log = EventLog(tmp_path / "raw" / "events.jsonl")
    log.write("phase_start", "hold", "steady", ts=10.0)
    log.write("phase_end", "hold", ts=20.0)
    lines = log.path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"ts": 10.0, "kind": "phase_start", "name": "hold", "detail": "steady"},
        {"ts": 20.0, "kind": "phase_end", "name": "hold", "detail": ""}]


def test_the_collector_reads_what_the_log_writes(tmp_path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.write("fault_start", "kill", "broker_kill broker 0", ts=5.0)
    events = read_events(log.path, Diagnostics(tmp_path))
    assert [(e.kind, e.name, e.ts) for e in events] == [("fault_start", "kill", 5.0)]
