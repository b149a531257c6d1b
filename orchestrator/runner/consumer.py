"""The native consumer: end-to-end latency from each message's timestamp, sequence tracking and lag.

It joins its group as soon as it starts (before ``start_at``), so the join is done by the time the
producers begin. After the schedule it keeps consuming until nothing arrived for ``drain_s``
seconds, but never longer than ``drain_max_s``.
"""

from __future__ import annotations

import time

from confluent_kafka import Consumer

from orchestrator.runner.client import RunnerError, StopFlag, client_config, topic_partitions
from orchestrator.runner.histogram import Histogram
from orchestrator.runner.records import IntervalClock, RecordWriter, public_config
from orchestrator.runner.schedule import phase_at, timed_phases
from orchestrator.runner.sequence import MAGIC, PREFIX, SeenRanges, count_in, stream_key
from orchestrator.runner.spec import RunnerSpec

BATCH = 1000
POLL_S = 0.1


class Interval:
    __slots__ = ("received", "bytes", "duplicated", "out_of_order", "e2e")

    def __init__(self) -> None:
        self.received = self.bytes = self.duplicated = self.out_of_order = 0
        self.e2e = Histogram()


class NativeConsumer:
    def __init__(self, spec: RunnerSpec, writer: RecordWriter, stop: StopFlag):
        self.spec, self.writer, self.stop = spec, writer, stop
        self.phases = timed_phases(spec.schedule, spec.start_at)
        self.clock = IntervalClock(spec.start_at)
        self.cur = Interval()
        self.totals = {"received": 0, "bytes": 0, "duplicated": 0, "out_of_order": 0}
        self.streams: dict[tuple[int, int], SeenRanges] = {}
        self.consumer: Consumer | None = None

    def run(self) -> None:
        spec = self.spec
        config = client_config(spec, {
            "group.id": spec.group or f"orchestrate-{spec.workload}",
            "auto.offset.reset": spec.start,
            "enable.partition.eof": "false",
        })
        self.consumer = Consumer(config)
        try:
            topic_partitions(self.consumer, spec.topic, spec.connect_timeout_s)
            self.consumer.subscribe([spec.topic])
            self.writer.start(public_config(spec))
            self._consume_until_drained()
        finally:
            self.consumer.close()

    def _consume_until_drained(self) -> None:
        schedule_end = self.phases[-1].end_ns
        hard_end = schedule_end + int(self.spec.drain_max_s * 1e9)
        idle_ns = int(self.spec.drain_s * 1e9)
        last_message = time.time_ns()
        while not self.stop.requested:
            messages = self.consumer.consume(BATCH, POLL_S)
            now = time.time_ns()
            if messages:
                self._handle(messages, now)
                last_message = now
            if now >= self.clock.start_ns:
                while self.clock.due(now):
                    self._roll(now)
            if now >= hard_end or (now >= schedule_end and now - max(last_message, schedule_end) >= idle_ns):
                break
        self._roll(time.time_ns())

    def _handle(self, messages: list, now_ns: int) -> None:
        cur, streams = self.cur, self.streams
        now_ms = now_ns / 1e6
        record = cur.e2e.record
        for m in messages:
            err = m.error()
            if err is not None:
                if err.fatal():
                    raise RunnerError(f"consumer error: {err.str()}")
                continue
            value = m.value()
            cur.received += 1
            cur.bytes += len(value) if value is not None else 0
            record(int((now_ms - m.timestamp()[1]) * 1000))
            if value is None or len(value) < PREFIX.size or value[:2] != MAGIC:
                continue
            _, producer_id, seq = PREFIX.unpack_from(value)
            key = (producer_id, m.partition())
            seen = streams.get(key)
            if seen is None:
                seen = streams[key] = SeenRanges()
            verdict = seen.add(seq)
            if verdict == "duplicate":
                cur.duplicated += 1
            elif verdict == "out_of_order":
                cur.out_of_order += 1

    def _lag(self) -> int:
        assignment = self.consumer.assignment()
        if not assignment:
            return 0
        lag = 0
        for tp in self.consumer.position(assignment):
            _, high = self.consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset >= 0 and high >= 0:
                lag += max(0, high - tp.offset)
        return lag

    def _roll(self, now_ns: int) -> None:
        start, end = self.clock.advance(now_ns)
        cur, self.cur = self.cur, Interval()
        for name in self.totals:
            self.totals[name] += getattr(cur, name)
        tp = phase_at(self.phases, start)
        self.writer.interval(start, end, tp.phase.name if tp else None, {
            "received": cur.received, "bytes": cur.bytes, "duplicated": cur.duplicated,
            "out_of_order": cur.out_of_order, "lag": self._lag(), "hist": {"e2e_latency": cur.e2e.to_dict()},
        })

    def end_fields(self) -> dict:
        seen = {stream_key(pid, partition): ranges.ranges() for (pid, partition), ranges in sorted(self.streams.items())}
        return {**self.totals, "seen_ranges": seen, "seen": sum(count_in(r) for r in seen.values())}
