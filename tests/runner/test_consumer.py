import signal
import time
from pathlib import Path

import pytest

from orchestrator.runner import consumer as consumer_module
from orchestrator.runner.client import StopFlag
from orchestrator.runner.consumer import WORK_S, NativeConsumer, Work
from orchestrator.runner.control import Control, write_control
from orchestrator.runner.histogram import Histogram
from orchestrator.runner.records import RecordWriter
from orchestrator.runner.sequence import MAGIC, PREFIX, count_in
from orchestrator.runner.spec import ProcessingSpec, parse_spec
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


def _lost(producer_end: dict, consumer_end: dict) -> int:
    acked, seen = union(producer_end["acked_ranges"]), union(consumer_end["seen_ranges"])
    return sum(len(acked[k] - seen.get(k, set())) for k in acked)


@pytest.mark.integration
def test_producer_waits_for_a_latest_consumer_so_it_misses_nothing(tmp_path, spec_dict, kafka_broker, make_topic):
    topic = make_topic(partitions=3)
    schedule = [{"name": "hold", "kind": "steady", "duration_s": 2, "rate_from": 500, "rate_to": 500}]
    consumer = live_spec(spec_dict, kafka_broker, topic, "consumer", schedule=schedule, start="latest", drain_s=10.0)
    # both start at once: the producer's first phase is due before the consumer can have joined
    consumer["start_at"] = time.time() + 0.2
    producer = live_spec(spec_dict, kafka_broker, topic, "producer", schedule=schedule, start_at=consumer["start_at"],
                         await_groups={consumer["group"]: 1}, keys={"distribution": "round_robin", "cardinality": 10})
    procs = [start_runner(write_spec(tmp_path / f"{s['role']}.json", s)) for s in (consumer, producer)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    c_end, p_end = read_records(consumer["output"])[-1], read_records(producer["output"])[-1]
    assert p_end["groups_waited_s"] is not None and p_end["acked"] == 1000
    assert _lost(p_end, c_end) == 0 and c_end["duplicated"] == 0
    assert set(c_end["start_offsets"]) == {"0", "1", "2"}
    # the producer's first acks are at or after where the consumer started on each partition
    starts = {int(p): o for p, o in c_end["start_offsets"].items()}
    assert all(low >= starts[int(key.rpartition("/")[2])] for key, (low, _) in p_end["acked_offsets"].items())


@pytest.mark.integration
def test_sigterm_after_the_producers_stop_drains_what_they_sent(tmp_path, spec_dict, kafka_broker, make_topic):
    topic = make_topic(partitions=2)
    schedule = [{"name": "long", "kind": "steady", "duration_s": 120, "rate_from": 1000, "rate_to": 1000}]
    consumer = live_spec(spec_dict, kafka_broker, topic, "consumer", schedule=schedule, drain_s=30.0)
    producer = live_spec(spec_dict, kafka_broker, topic, "producer", schedule=schedule, start_at=consumer["start_at"],
                         await_groups={consumer["group"]: 1})
    c_proc, p_proc = (start_runner(write_spec(tmp_path / f"{s['role']}.json", s)) for s in (consumer, producer))
    deadline = time.time() + 60
    while time.time() < deadline and sum(r["type"] == "interval" for r in _records(producer)) < 3:
        time.sleep(0.2)
    # as apply stops a run: the producer first, then the consumer
    for proc in (p_proc, c_proc):
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    c_end, p_end = read_records(consumer["output"])[-1], read_records(producer["output"])[-1]
    assert (c_end["reason"], p_end["reason"]) == ("signal", "signal")
    assert p_end["acked"] > 0 and _lost(p_end, c_end) == 0
    assert c_end["received"] == p_end["acked"]
    # it caught up with the log end: it stopped well before its 30 s idle bound
    assert set(c_end["end_offsets"]) == {"0", "1"}


@pytest.mark.integration
def test_messages_deleted_before_an_earliest_consumer_read_them_are_lost(tmp_path, spec_dict, kafka_broker, make_topic):
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    from orchestrator.collect import collect
    from orchestrator.rundir import RunDir

    topic = make_topic(partitions=1)
    producer = live_spec(spec_dict, kafka_broker, topic, "producer", max_messages=300,
                         schedule=[{"name": "hold", "kind": "steady", "duration_s": 2, "rate_from": 300, "rate_to": 300}])
    proc = start_runner(write_spec(tmp_path / "producer.json", producer))
    proc.communicate(timeout=120)
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap_servers})
    for future in admin.delete_records([TopicPartition(topic, 0, 100)]).values():
        future.result(30)
    consumer = live_spec(spec_dict, kafka_broker, topic, "consumer", workload="c", drain_s=3.0,
                         schedule=[{"name": "hold", "kind": "steady", "duration_s": 1, "rate_from": None, "rate_to": None}])
    proc = start_runner(write_spec(tmp_path / "consumer.json", consumer))
    proc.communicate(timeout=120)
    run = RunDir(tmp_path / "run")
    (run.raw / "native").mkdir(parents=True)
    run.resolved_plan.write_text(f"metadata: {{name: deleted}}\ntopics: [{{name: {topic}}}]\nworkloads:\n"
                                 f"  - {{name: w, kind: producer, topic: {topic}}}\n"
                                 f"  - {{name: c, kind: consumer, topic: {topic}}}\n"
                                 "phases: [{name: hold, kind: steady, duration: 2s}]\n")
    for spec in (producer, consumer):
        (run.raw / "native" / Path(spec["output"]).name).write_text(Path(spec["output"]).read_text())
    (c,) = [w for w in collect(run).workloads if w.name == "c"]
    assert (c.messages, c.lost, c.lost_excluded) == (200, 100, [])


def _records(spec):
    try:
        return read_records(spec["output"])
    except FileNotFoundError:
        return []


def test_a_processing_cost_is_owed_message_by_message_and_bounds_the_batch():
    work = Work(ProcessingSpec(delay_s=0.002), seed=1)
    assert work.batch == int(WORK_S / 0.002)
    assert work.owe(10, 1_000_000_000) == 1_000_000_000 + 20_000_000
    # behind by less than the slack: the oversleep is made up on the next messages
    assert work.owe(1, 1_025_000_000) == 1_022_000_000
    spread = Work(ProcessingSpec(distribution="exponential", mean_s=0.001), seed=1)
    total = spread.owe(2000, 0)
    assert 1.7e9 < total < 2.3e9  # 2,000 messages at a mean of 1 ms


class _Built(Exception):
    """Raised by a stand-in for confluent_kafka.Consumer once it has seen the configuration."""


@pytest.mark.parametrize("properties, backoff_ms", [({}, "10"), ({"fetch.queue.backoff.ms": "500"}, "500")])
def test_a_consumer_fetches_again_10_ms_after_its_queue_filled_unless_the_plan_says_otherwise(
        monkeypatch, spec_dict, properties, backoff_ms):
    def built(config, logger):
        raise _Built

    monkeypatch.setattr(consumer_module, "Consumer", built)
    spec = parse_spec({**spec_dict, "role": "consumer", "client_config": properties})
    consumer = NativeConsumer(spec, RecordWriter(spec), StopFlag())
    with pytest.raises(_Built):
        consumer.run()
    assert consumer.config["fetch.queue.backoff.ms"] == backoff_ms
    assert consumer.config["group.id"] == "orchestrate-w"


def test_a_consumer_holds_off_in_a_drain_until_the_control_file_releases_it(tmp_path, spec_dict):
    control = tmp_path / "control.json"
    spec = parse_spec({**spec_dict, "role": "consumer", "control": str(control), "schedule": [
        {"name": "warm", "kind": "warmup", "duration_s": 5, "rate_from": None, "rate_to": None},
        {"name": "drain", "kind": "drain", "duration_s": 60, "rate_from": None, "rate_to": None}]})
    consumer = NativeConsumer(spec, RecordWriter(spec), StopFlag())
    t0 = int(spec.start_at * 1e9)
    assert not consumer._held(t0 + 1_000_000_000)  # the warm-up reads as usual
    assert consumer._held(t0 + 6_000_000_000)
    write_control(control, Control(release_ns=t0 + 10_000_000_000))
    assert consumer._held(t0 + 9_500_000_000) and not consumer._held(t0 + 10_000_000_000)


@pytest.mark.integration
def test_in_a_drain_the_consumer_reads_nothing_until_released_then_the_whole_backlog(tmp_path, spec_dict, kafka_broker,
                                                                                     make_topic):
    topic = make_topic(partitions=3)
    control = tmp_path / "control.json"
    schedule = [{"name": "drain", "kind": "drain", "duration_s": 60, "rate_from": None, "rate_to": None}]
    consumer = live_spec(spec_dict, kafka_broker, topic, "consumer", control=str(control), drain_s=3.0,
                         schedule=schedule, processing={"distribution": "fixed", "delay_s": 0.0002})
    producer = live_spec(spec_dict, kafka_broker, topic, "producer", control=str(control),
                         schedule=[{**schedule[0], "messages": 3000}], start_at=consumer["start_at"])
    procs = [start_runner(write_spec(tmp_path / f"{s['role']}.json", s)) for s in (consumer, producer)]
    procs[1].communicate(timeout=120)
    assert procs[1].returncode == 0
    time.sleep(2.0)  # the held consumer had every chance to read early
    release = time.time() + 0.5
    write_control(control, Control(release_ns=int(release * 1e9)))
    # once it has read the backlog the drain ends, and the consumer with it after its idle time
    deadline = time.time() + 60
    while sum(r.get("received", 0) for r in read_records(consumer["output"]) if r["type"] == "interval") < 3000:
        assert time.time() < deadline
        time.sleep(0.5)
    write_control(control, Control(release_ns=int(release * 1e9), end_ns=int((time.time() + 0.5) * 1e9)))
    procs[0].communicate(timeout=60)
    assert procs[0].returncode == 0
    intervals = [r for r in read_records(consumer["output"]) if r["type"] == "interval"]
    assert sum(r["received"] for r in intervals if r["ts"] <= release) == 0
    assert read_records(producer["output"])[-1]["acked"] == 3000
    assert sum(r["received"] for r in intervals) == 3000 == read_records(consumer["output"])[-1]["received"]
    # 3,000 messages at 0.2 ms each: at least 0.6 s of work after the release
    last = max(r["ts"] for r in intervals if r["received"])
    assert last - release >= 0.6


class _Message:
    def __init__(self, partition: int, offset: int, seq: int):
        self._partition, self._offset = partition, offset
        self._value = PREFIX.pack(MAGIC, 7, seq, time.time_ns() // 1000) + b"x" * 10

    def error(self):
        return None

    def value(self) -> bytes:
        return self._value

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset


def test_a_message_read_again_at_the_same_offset_is_a_redelivery_not_a_duplicate(spec_dict):
    spec = parse_spec({**spec_dict, "role": "consumer"})
    consumer = NativeConsumer(spec, RecordWriter(spec), StopFlag())
    now = time.time_ns()
    consumer._handle([_Message(0, offset, seq=offset) for offset in range(5)], now)
    # the group went back to its commit at offset 2 (a rebalance): offsets 2-4 come again
    consumer._handle([_Message(0, offset, seq=offset) for offset in range(2, 7)], now)
    # a second copy in the log (a producer retry without idempotence): seq 6 again at a new offset
    consumer._handle([_Message(0, 7, seq=6)], now)
    cur = consumer.cur
    assert (cur.received, cur.redelivered, cur.duplicated) == (11, 3, 1)
    assert cur.e2e.count == 8  # a redelivery's latency would be the age of its first delivery
