"""The native consumer: end-to-end latency, sequence tracking and lag.

End-to-end latency is the time from the send (the µs stamp in a native producer's prefix; for
other messages, the record's ms CreateTime) to the moment the consumer got the message. So that
moment is the message's arrival rather than the filling of a batch, the loop takes what librdkafka
has already queued without waiting, and only when nothing is queued waits for the first message:
``consume(BATCH, timeout)`` would hold early messages until the batch filled or the timeout ran
out, and stamp that wait as latency.

It joins its group as soon as it starts (before ``start_at``), so the join is done by the time the
producers begin. After the schedule it keeps consuming until nothing arrived for ``drain_s``
seconds, but never longer than ``drain_max_s``.
"""

from __future__ import annotations

import time

from confluent_kafka import Consumer

from orchestrator.runner.client import LOG, RunnerError, StopFlag, client_config, topic_partitions
from orchestrator.runner.histogram import Histogram
from orchestrator.runner.records import IntervalRole, RecordWriter, public_config
from orchestrator.runner.schedule import TimedPhase
from orchestrator.runner.sequence import MAGIC, PREFIX, SeenRanges, count_in, stream_key
from orchestrator.runner.spec import RunnerSpec

BATCH = 1000
POLL_S = 0.1


class Interval:
    __slots__ = ("received", "bytes", "duplicated", "out_of_order", "e2e")

    def __init__(self) -> None:
        self.received = self.bytes = self.duplicated = self.out_of_order = 0
        self.e2e = Histogram()


class NativeConsumer(IntervalRole):
    interval_type = Interval
    total_names = ("received", "bytes", "duplicated", "out_of_order")

    def __init__(self, spec: RunnerSpec, writer: RecordWriter, stop: StopFlag):
        super().__init__(spec, writer)
        self.stop = stop
        self.streams: dict[tuple[int, int], SeenRanges] = {}
        self.consumer: Consumer | None = None
        self.assigned_at: int | None = None
        self.last_message_at: int | None = None

    def run(self) -> None:
        spec = self.spec
        config = client_config(spec, {
            "group.id": spec.group or f"orchestrate-{spec.workload}",
            "auto.offset.reset": spec.start,
            "enable.partition.eof": "false",
        })
        self.consumer = Consumer(config, logger=LOG)
        try:
            topic_partitions(self.consumer, spec.topic, spec.connect_timeout_s)
            self.consumer.subscribe([spec.topic], on_assign=self._assigned)
            self.writer.start(public_config(spec))
            self._consume_until_drained()
        finally:
            self.consumer.close()

    def _consume_until_drained(self) -> None:
        drain_max_ns = int(self.spec.drain_max_s * 1e9)
        idle_ns = int(self.spec.drain_s * 1e9)
        last_message = 0
        consume = self.consumer.consume
        while not self.stop.requested:
            messages = consume(BATCH, 0) or consume(1, POLL_S)
            now = time.time_ns()
            schedule_end = self.schedule_end_ns(now)
            hard_end = schedule_end + drain_max_ns
            if messages:
                self._handle(messages, now)
                last_message = self.last_message_at = now
            self.roll_if_due(now)
            # idle counts only once partitions are assigned: a slow group join is not an empty topic
            quiet_since = max(last_message, schedule_end, self.assigned_at or now)
            if now >= hard_end or (now >= schedule_end and now - quiet_since >= idle_ns):
                break
        self.roll(time.time_ns())

    def _assigned(self, consumer: Consumer, partitions: list) -> None:
        if partitions and self.assigned_at is None:
            self.assigned_at = time.time_ns()

    def _handle(self, messages: list, now_ns: int) -> None:
        cur, streams = self.cur, self.streams
        now_us, now_ms = now_ns // 1000, now_ns / 1e6
        e2e = []
        for m in messages:
            err = m.error()
            if err is not None:
                if err.fatal():
                    raise RunnerError(f"consumer error: {err.str()}")
                continue
            value = m.value()
            cur.received += 1
            cur.bytes += len(value) if value is not None else 0
            if value is None or len(value) < PREFIX.size or value[:2] != MAGIC:
                e2e.append(int((now_ms - m.timestamp()[1]) * 1000))
                continue
            _, producer_id, seq, sent_us = PREFIX.unpack_from(value)
            e2e.append(now_us - sent_us)
            key = (producer_id, m.partition())
            seen = streams.get(key)
            if seen is None:
                seen = streams[key] = SeenRanges()
            verdict = seen.add(seq)
            if verdict == "duplicate":
                cur.duplicated += 1
            elif verdict == "out_of_order":
                cur.out_of_order += 1
        cur.e2e.record_all(e2e)

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

    def interval_fields(self, cur: Interval, tp: TimedPhase | None, start_ns: int, end_ns: int) -> dict:
        return {"received": cur.received, "bytes": cur.bytes, "duplicated": cur.duplicated,
                "out_of_order": cur.out_of_order, "lag": self._lag(), "hist": {"e2e_latency": cur.e2e.to_dict()}}

    def end_fields(self) -> dict:
        seen = {stream_key(pid, partition): ranges.ranges() for (pid, partition), ranges in sorted(self.streams.items())}
        # the span a backlog took to read: from the partitions' assignment to the last message
        span = {"assigned_at": self.assigned_at / 1e9 if self.assigned_at else None,
                "last_message_at": self.last_message_at / 1e9 if self.last_message_at else None}
        return {**self.totals, "seen_ranges": seen, "seen": sum(count_in(r) for r in seen.values()), **span}
