import json

from orchestrator.runner.records import IntervalClock, RecordWriter
from orchestrator.runner.spec import parse_spec

S = 10**9


def test_intervals_are_aligned_on_start_at():
    clock = IntervalClock(100.0)
    assert not clock.due(100 * S + S - 1)
    assert clock.advance(101 * S + 5) == (100 * S, 101 * S)
    assert clock.advance(102 * S) == (101 * S, 102 * S)


def test_last_interval_may_be_partial():
    clock = IntervalClock(100.0)
    assert clock.advance(100 * S + S // 2) == (100 * S, 100 * S + S // 2)


def test_every_record_is_one_flushed_json_line(spec_dict, tmp_path):
    writer = RecordWriter(parse_spec(spec_dict))
    writer.start({"topic": "t"})
    writer.interval(100 * S, 101 * S, "steady", {"sent": 5})
    lines = (tmp_path / "out.jsonl").read_text().splitlines()  # readable before close: flushed
    writer.close()
    records = [json.loads(line) for line in lines]
    assert [r["type"] for r in records] == ["start", "interval"]
    assert records[1] == {"type": "interval", "ts": 101.0, "start": 100.0, "workload": "w", "instance": 0,
                          "role": "producer", "host": "localhost", "phase": "steady", "sent": 5}
