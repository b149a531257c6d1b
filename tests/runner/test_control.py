"""The search's control file: written whole, read when it changed, and followed by the runners."""

from __future__ import annotations

import time

import pytest

from orchestrator.runner.control import CHECK_NS, Control, ControlReader, Probe, parse_control, write_control
from tests.runner.processes import live_spec, read_records, start_runner, write_spec

S = 1_000_000_000


def test_a_control_file_round_trips(tmp_path) -> None:
    control = Control((Probe("search/1", 10 * S, {"load": 250.0}), Probe("search/2", 20 * S, {"load": 500.0})), 30 * S)
    write_control(tmp_path / "c.json", control)
    assert parse_control((tmp_path / "c.json").read_text()) == control
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_the_reader_follows_changes_and_keeps_the_last_good_view(tmp_path) -> None:
    path = tmp_path / "c.json"
    reader = ControlReader(path)
    assert reader.refresh(0) == Control()  # no file yet: nothing announced
    write_control(path, Control((Probe("p/1", 10 * S, {"w": 1.0}),)))
    assert reader.refresh(1) == Control()  # looked less than CHECK_NS ago
    assert reader.refresh(CHECK_NS).probes[0].name == "p/1"
    write_control(path, Control((Probe("p/1", 10 * S, {"w": 1.0}), Probe("p/2", 20 * S, {"w": 2.0})), 30 * S))
    reader.refresh(2 * CHECK_NS)
    assert [reader.probe_at(t * S).name if reader.probe_at(t * S) else None for t in (5, 10, 19, 25)] == \
        [None, "p/1", "p/1", "p/2"]
    assert (reader.next_start(12 * S), reader.next_start(25 * S)) == (20 * S, None)
    path.write_text("{half a fi")
    assert reader.refresh(3 * CHECK_NS).end_ns == 30 * S


@pytest.mark.parametrize("text", ["[]", '{"probes": [{"name": "x"}]}', "nope"])
def test_malformed_control_files_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a control file"):
        parse_control(text)


@pytest.mark.integration
def test_runners_follow_the_probes_and_end_when_the_search_ends(tmp_path, spec_dict, kafka_broker, make_topic):
    """A producer changes rate at each announced probe and both roles stop at the announced end,
    long before the phase's bound."""
    topic, control = make_topic(), tmp_path / "control.json"
    schedule = [{"name": "search", "kind": "search", "duration_s": 600, "rate_from": 100, "rate_to": 100}]
    specs = [live_spec(spec_dict, kafka_broker, topic, role, schedule=schedule, control=str(control), drain_s=2.0)
             for role in ("consumer", "producer")]
    start = specs[1]["start_at"] = specs[0]["start_at"] = float(int(time.time()) + 2)
    write_control(control, Control((Probe("search/1", int(start * S), {"w": 100.0}),
                                    Probe("search/2", int((start + 2) * S), {"w": 300.0})), int((start + 4) * S)))
    began = time.time()
    procs = [start_runner(write_spec(tmp_path / f"{s['role']}.json", s)) for s in specs]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    assert time.time() - began < 60
    intervals = [r for r in read_records(specs[1]["output"]) if r["type"] == "interval" and r["phase"] == "search"]
    assert [r["target_rate"] for r in intervals] == [100.0, 100.0, 300.0, 300.0]
    assert sum(r["sent"] for r in intervals) == 100 * 2 + 300 * 2
    assert read_records(specs[0]["output"])[-1]["received"] == 800
