import json

import pytest

from orchestrator.execute.base import LiveStats
from orchestrator.runner.histogram import Histogram
from orchestrator.runner.records import IntervalClock, RecordTail, RecordWriter
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


def test_the_end_record_says_the_runners_own_cpu_time(spec_dict, tmp_path):
    writer = RecordWriter(parse_spec(spec_dict))
    sum(i * i for i in range(200_000))  # some CPU of its own to account for
    writer.end("done", None, {"acked": 5})
    writer.close()
    end = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[-1])
    assert end["cpu_s"] > 0 and end["acked"] == 5


def _interval(ts: float, **fields) -> str:
    return json.dumps({"type": "interval", "start": ts - 1.0, "ts": ts, **fields})


def _latency(*values_us: int) -> dict:
    h = Histogram()
    h.record_all(values_us)
    return h.to_dict()


def test_record_tail_keeps_the_newest_second_and_skips_repeated_lines():
    tail = RecordTail()
    first = _interval(11.0, acked=100, errors=1, hist={"publish_latency": _latency(*[2000] * 99, 40_000)})
    tail.add([first, _interval(12.0, acked=50, errors=2, hist={"publish_latency": _latency()})])
    tail.add([first, _interval(12.0, acked=50, errors=2), '{"type": "interv'])  # an overlapping poll, a half line
    assert (tail.rate, tail.errors, tail.ended, tail.lag) == (50.0, 3, False, None)
    assert tail.p99_ms() == pytest.approx(2.0, rel=0.01)  # bucket top; from the newest second that had samples: 12.0 had none
    tail.add([_interval(13.0, received=10, lag=7), json.dumps({"type": "end", "ts": 13.2})])
    assert (tail.rate, tail.lag, tail.ended) == (10.0, 7, True)


def test_live_stats_of_runners_adds_rates_of_running_instances_and_takes_the_worst_p99():
    def tail(rate_acked: int, p99_us: int, lag: int | None = None) -> RecordTail:
        t = RecordTail()
        t.add([_interval(11.0, received=rate_acked, lag=lag, hist={"e2e_latency": _latency(p99_us)})])
        return t

    stats = LiveStats.of_runners(False, [(tail(100, 3000, 5), True), (tail(200, 9000, 6), True), (tail(400, 1000), False)])
    assert (stats.consumed_per_s, stats.produced_per_s, stats.lag) == (300.0, 0.0, 11)
    assert stats.e2e_p99_ms == pytest.approx(9.0, rel=0.01) and stats.publish_p99_ms is None
