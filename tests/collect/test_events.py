from pathlib import Path

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.events import phase_spans, read_events

FIXTURES = Path(__file__).parent.parent / "fixtures" / "collect"


def test_events_read_and_corrupt_line_counted():
    diag = Diagnostics(FIXTURES)
    events = read_events(FIXTURES / "events.jsonl", diag)
    assert [e.kind for e in events] == ["run_start", "phase_start", "phase_end", "phase_start", "fault_start", "slo_breach"]
    assert events[4].detail == "broker 0 SIGKILL"
    assert diag.lines() == ["events.jsonl: 1 malformed lines skipped (first at line 6)"]


def test_phase_spans_paired_and_open_phase_kept():
    events = read_events(FIXTURES / "events.jsonl", Diagnostics(FIXTURES))
    spans = phase_spans(events, {"warm": "warmup", "steady": "steady"})
    assert [(s.name, s.kind, s.start, s.end) for s in spans] == [
        ("warm", "warmup", 1795596801.0, 1795596811.0), ("steady", "steady", 1795596811.0, None)]


def test_missing_events_file_is_a_warning(tmp_path):
    diag = Diagnostics(tmp_path)
    assert read_events(tmp_path / "events.jsonl", diag) == []
    assert diag.lines() == ["events.jsonl: missing: no phase or fault markers"]
