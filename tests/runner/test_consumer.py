import pytest

from orchestrator.runner.histogram import Histogram
from orchestrator.runner.sequence import count_in
from tests.runner.processes import live_spec, read_records, start_runner, write_spec


def union(ranges_by_stream: dict) -> dict[str, set[int]]:
    return {key: {s for first, last in ranges for s in range(first, last + 1)} for key, ranges in ranges_by_stream.items()}


@pytest.mark.integration
def test_everything_produced_is_consumed_and_nothing_is_lost(tmp_path, spec_dict, kafka_broker, make_topic):
    topic = make_topic(partitions=3)
    schedule = [{"name": "warm", "kind": "warmup", "duration_s": 1, "rate_from": 300, "rate_to": 300},
                {"name": "ramp", "kind": "ramp", "duration_s": 2, "rate_from": 300, "rate_to": 600}]
    # a generous drain: on a busy machine the broker can stall for seconds
    specs = [live_spec(spec_dict, kafka_broker, topic, role, schedule=schedule, drain_s=15.0,
                       keys={"distribution": "round_robin", "cardinality": 10}) for role in ("consumer", "producer")]
    specs[1]["start_at"] = specs[0]["start_at"]
    procs = [start_runner(write_spec(tmp_path / f"{s['role']}.json", s)) for s in specs]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    consumer, producer = (read_records(s["output"]) for s in specs)
    c_end, p_end = consumer[-1], producer[-1]
    assert p_end["sent"] == p_end["acked"] == c_end["received"] > 0
    acked, seen = union(p_end["acked_ranges"]), union(c_end["seen_ranges"])
    assert len(acked) == 3  # one stream per partition
    assert sum(len(acked[k] - seen.get(k, set())) for k in acked) == 0  # lost
    assert (c_end["duplicated"], c_end["out_of_order"]) == (0, 0)
    assert count_in([r for rs in c_end["seen_ranges"].values() for r in rs]) == c_end["received"]
    e2e = sum(Histogram.from_dict(r["hist"]["e2e_latency"]).count for r in consumer if r["type"] == "interval")
    assert e2e == c_end["received"]
    # the span it read in: from its assignment to its last message, before it ended
    assert 0 < c_end["assigned_at"] <= c_end["last_message_at"] <= c_end["ts"]


@pytest.mark.integration
def test_producer_intervals_carry_phase_names_and_target_rates(tmp_path, spec_dict, kafka_broker, make_topic):
    schedule = [{"name": "warm", "kind": "warmup", "duration_s": 1, "rate_from": 200, "rate_to": 200},
                {"name": "hold", "kind": "steady", "duration_s": 2, "rate_from": 400, "rate_to": 400}]
    spec = live_spec(spec_dict, kafka_broker, make_topic(), "producer", schedule=schedule)
    proc = start_runner(write_spec(tmp_path / "p.json", spec))
    proc.communicate(timeout=120)
    intervals = [r for r in read_records(spec["output"]) if r["type"] == "interval"]
    assert [(r["phase"], r["target_rate"]) for r in intervals[:3]] == [("warm", 200.0), ("hold", 400.0), ("hold", 400.0)]
    assert sum(r["sent"] for r in intervals) == 200 + 800
