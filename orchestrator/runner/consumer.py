"""The native consumer: end-to-end latency, sequence tracking and lag.

End-to-end latency is the time from the send (the µs stamp in a native producer's prefix; for
other messages, the record's ms CreateTime) to the moment the consumer got the message. So that
moment is the message's arrival rather than the filling of a batch, the loop takes what librdkafka
has already queued without waiting, and only when nothing is queued waits for the first message:
``consume(BATCH, timeout)`` would hold early messages until the batch filled or the timeout ran
out, and stamp that wait as latency.

It joins its group as soon as it starts (before ``start_at``). When it is given partitions it
decides where it starts reading each of them (the group's committed offset, else the beginning or
the end of the log as ``start`` says), commits that position with the run's start token, and
records it (``start_offsets`` in the end record): the run's producers wait for that commit on every
partition before they send, so with ``start: latest`` nothing they send is before the consumer's
start, and the loss audit knows which offsets this consumer could never have read.

After the schedule it keeps consuming until nothing arrived for ``drain_s`` seconds, but never
longer than ``drain_max_s``. A stop (SIGINT/SIGTERM; the orchestrator stops the producers first)
ends the schedule there and then: the consumer reads on until it has caught up with the log end of
every partition it holds and nothing arrived for a second (or for ``drain_s``, if shorter), with the
same bounds; a second signal stops it at once. The orchestrator sends that signal at the end of
a run too, as soon as the producers have finished, rather than waiting for the consumers to idle.

In a drain phase it holds off (its partitions paused: still in the group, fetching nothing) until
the control file releases it, so the backlog is read by a group that has already settled.

With a processing cost it spends the cost of each message after taking it, one message after
another as a single-threaded application would (sleeping it off, a slice at a time), and takes
at most ``WORK_S`` worth of messages at once, so that what an interval counts was also worked on
within about that long. End-to-end latency is stamped on arrival, before the work.
"""

from __future__ import annotations

import random
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition

from orchestrator.runner.client import LOG, RunnerError, StopFlag, client_config, start_token, topic_partitions
from orchestrator.runner.histogram import Histogram
from orchestrator.runner.records import IntervalRole, RecordWriter, public_config
from orchestrator.runner.schedule import TimedPhase, phase_at
from orchestrator.runner.sequence import MAGIC, PREFIX, SeenRanges, count_in, stream_key
from orchestrator.runner.spec import ProcessingSpec, RunnerSpec

BATCH = 1000
POLL_S = 0.1
CAUGHT_UP_CHECK_NS = 200_000_000  # while draining after a stop: how often the log ends are asked for
# ...and how long nothing must have arrived as well: with acks=1 an acknowledged message can sit
# above the high watermark until the followers fetch it (replica.fetch.wait.max.ms, 500 ms)
CAUGHT_UP_QUIET_NS = 1_000_000_000
WORK_S = 0.1  # with a processing cost: the work taken on at once
SLACK_NS = 10_000_000  # oversleeping by up to this much is made up on the next messages


class Work:
    """The processing cost: a delay drawn for every message, slept off against a running clock."""

    def __init__(self, spec: ProcessingSpec, seed: int):
        rng = random.Random(seed)
        draws = {"fixed": lambda: spec.delay_s, "uniform": lambda: rng.uniform(spec.min_s, spec.max_s),
                 "normal": lambda: max(0.0, rng.gauss(spec.mean_s, spec.stddev_s)),
                 "exponential": lambda: rng.expovariate(1.0 / spec.mean_s)}
        self.draw = draws[spec.distribution]
        mean = {"fixed": spec.delay_s, "uniform": (spec.min_s + spec.max_s) / 2.0}.get(spec.distribution, spec.mean_s)
        self.batch = max(1, min(BATCH, int(WORK_S / mean))) if mean > 0 else BATCH
        self.busy_until = 0

    def owe(self, messages: int, now_ns: int) -> int:
        """The time by which the work on ``messages`` more is done."""
        cost = sum(self.draw() for _ in range(messages))
        # just behind: the sleep overshot, and the next messages make up for it; further behind: idle
        base = self.busy_until if self.busy_until >= now_ns - SLACK_NS else now_ns
        self.busy_until = base + int(cost * 1e9)
        return self.busy_until


class ReadInterval:
    __slots__ = ("received", "bytes", "duplicated", "out_of_order", "redelivered", "e2e")

    def __init__(self) -> None:
        self.received = self.bytes = self.duplicated = self.out_of_order = self.redelivered = 0
        self.e2e = Histogram()


class NativeConsumer(IntervalRole):
    interval_type = ReadInterval
    total_names = ("received", "bytes", "duplicated", "out_of_order", "redelivered")

    def __init__(self, spec: RunnerSpec, writer: RecordWriter, stop: StopFlag):
        super().__init__(spec, writer)
        self.stop = stop
        self.streams: dict[tuple[int, int], SeenRanges] = {}
        self.read_to: dict[int, int] = {}  # partition -> highest offset read
        self.config: dict[str, str] = {}
        self.consumer: Consumer | None = None
        self.assigned_at: int | None = None
        self.last_message_at: int | None = None
        self.start_offsets: dict[int, int] = {}  # partition -> lowest offset this instance started reading at
        self.end_offsets: dict[int, int] = {}  # partition -> its position when it stopped
        self._next_caught_up_check = 0
        self.paused = False
        self.drains = any(tp.phase.kind == "drain" for tp in self.phases)
        self.work = Work(spec.processing, spec.seed) if spec.processing is not None else None

    def run(self) -> None:
        spec = self.spec
        config = client_config(spec, {
            "group.id": spec.group or f"orchestrate-{spec.workload}",
            "auto.offset.reset": spec.start,
            "enable.partition.eof": "false",
            # librdkafka waits this long (default 1 s) before fetching a partition again once its
            # local queue is full; a reader faster than that queue idles out most of every second
            # (a single consumer capped near 140k msg/s at 100 B; 750k with 10 ms, docs/benchmarks.md)
            "fetch.queue.backoff.ms": "10",
        })
        self.config = config
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
        last_message, stopped_at = 0, None
        consume = self.consumer.consume
        batch = self.work.batch if self.work is not None else BATCH
        while not self.stop.urgent:
            held = self._held(time.time_ns())
            if held != self.paused:
                self._hold(held)
            messages = consume(batch, 0) or consume(1, POLL_S)
            now = time.time_ns()
            if self.stop.requested and stopped_at is None:
                stopped_at = now
            schedule_end = self.schedule_end_ns(now)
            if stopped_at is not None:
                schedule_end = min(schedule_end, stopped_at)
            hard_end = schedule_end + drain_max_ns
            if messages:
                self._handle(messages, now)
                last_message = self.last_message_at = now
            self.roll_if_due(now)
            if messages and self.work is not None:
                self._work_off(self.work.owe(len(messages), now))
            # idle counts only once partitions are assigned: a slow group join is not an empty topic
            quiet_since = max(last_message, schedule_end, self.assigned_at or now)
            if now >= hard_end or (now >= schedule_end and now - quiet_since >= idle_ns):
                break
            if (stopped_at is not None and now - max(last_message, stopped_at) >= min(idle_ns, CAUGHT_UP_QUIET_NS)
                    and self._caught_up(now)):
                break
        self.roll(time.time_ns())
        self.end_offsets = dict(self._positions())

    def _positions(self) -> list[tuple[int, int]]:
        """(partition, position) of every assigned partition; a partition not read from yet is at its start."""
        return [(tp.partition, tp.offset if tp.offset >= 0 else self.start_offsets.get(tp.partition, -1))
                for tp in self.consumer.position(self.consumer.assignment())]

    def _caught_up(self, now_ns: int) -> bool:
        """Every assigned partition read up to its log end (asked afresh, at most every 200 ms)."""
        if now_ns < self._next_caught_up_check:
            return False
        self._next_caught_up_check = now_ns + CAUGHT_UP_CHECK_NS
        positions = self._positions()
        if not positions:
            return False
        try:
            for partition, position in positions:
                _, high = self.consumer.get_watermark_offsets(TopicPartition(self.spec.topic, partition),
                                                              timeout=1.0, cached=False)
                if position < high:
                    return False
        except KafkaException:
            return False  # a broker that does not answer now: keep reading until the drain's bounds
        return True

    def _work_off(self, until_ns: int) -> None:
        """Sleep until the work is done, closing intervals on time meanwhile."""
        while not self.stop.urgent:
            now = time.time_ns()
            self.roll_if_due(now)
            if now >= until_ns:
                return
            time.sleep(min(until_ns - now, self.clock.end_ns - now, int(POLL_S * 1e9)) / 1e9)

    def _held(self, now_ns: int) -> bool:
        """In a drain phase (or before one that starts the schedule) until the orchestrator releases
        the consumers."""
        if not self.drains or self.control is None or self.stop.requested:
            return False  # a stopped run reads what it can: the drain's answer is lost anyway
        first = self.phases[0]
        tp = first if now_ns < first.start_ns else phase_at(self.phases, now_ns)
        if tp is None or tp.phase.kind != "drain":
            return False
        release = self.control.refresh(now_ns).release_ns
        return release is None or now_ns < release

    def _hold(self, held: bool) -> None:
        assignment = self.consumer.assignment()
        if assignment:
            (self.consumer.pause if held else self.consumer.resume)(assignment)
        self.paused = held

    def _assigned(self, consumer: Consumer, partitions: list) -> None:
        """Start each partition at an explicit offset and commit it with the run's start token."""
        try:
            committed = {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=self.spec.connect_timeout_s)}
            for tp in partitions:
                offset = committed.get(tp.partition, -1)
                if offset < 0:
                    low, high = consumer.get_watermark_offsets(tp, timeout=self.spec.connect_timeout_s, cached=False)
                    offset = high if self.spec.start == "latest" else low
                tp.offset = offset
        except KafkaException as e:
            # the group's offset reset decides instead; the producers wait out their bound
            LOG.warning("start offsets not resolved, auto.offset.reset applies: %s", e)
            self._assign(consumer, partitions)
            return
        self._assign(consumer, partitions)
        for tp in partitions:
            self.start_offsets[tp.partition] = min(tp.offset, self.start_offsets.get(tp.partition, tp.offset))
        token = f"{start_token(self.spec)}{self.spec.instance}"
        try:
            consumer.commit(offsets=[TopicPartition(tp.topic, tp.partition, tp.offset, metadata=token) for tp in partitions],
                            asynchronous=False)
        except KafkaException as e:
            LOG.warning("start offsets not committed: %s", e)
        if partitions and self.assigned_at is None:
            self.assigned_at = time.time_ns()

    def _assign(self, consumer: Consumer, partitions: list) -> None:
        cooperative = "cooperative" in self.config.get("partition.assignment.strategy", "")
        (consumer.incremental_assign if cooperative else consumer.assign)(partitions)
        if partitions and self.paused:  # given partitions while held (a rebalance): they start paused too
            consumer.pause(partitions)

    def _handle(self, messages: list, now_ns: int) -> None:
        cur, streams, read_to = self.cur, self.streams, self.read_to
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
            partition, offset = m.partition(), m.offset()
            if offset <= read_to.get(partition, -1):
                # read again at an offset already read (the group went back to its last commit after a
                # rebalance or a coordinator failover): at-least-once delivery, not a second copy in the
                # log, and its latency would be the age of the first delivery
                cur.redelivered += 1
                continue
            read_to[partition] = offset
            if value is None or len(value) < PREFIX.size or value[:2] != MAGIC:
                e2e.append(int((now_ms - m.timestamp()[1]) * 1000))
                continue
            _, producer_id, seq, sent_us = PREFIX.unpack_from(value)
            e2e.append(now_us - sent_us)
            key = (producer_id, partition)
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

    def interval_fields(self, cur: ReadInterval, tp: TimedPhase | None, start_ns: int, end_ns: int) -> dict:
        return {"received": cur.received, "bytes": cur.bytes, "duplicated": cur.duplicated,
                "out_of_order": cur.out_of_order, "redelivered": cur.redelivered, "lag": self._lag(),
                "hist": {"e2e_latency": cur.e2e.to_dict()}}

    def end_fields(self) -> dict:
        seen = {stream_key(pid, partition): ranges.ranges() for (pid, partition), ranges in sorted(self.streams.items())}
        # the span a backlog took to read: from the partitions' assignment to the last message
        span = {"assigned_at": self.assigned_at / 1e9 if self.assigned_at else None,
                "last_message_at": self.last_message_at / 1e9 if self.last_message_at else None}
        return {**self.totals, "seen_ranges": seen, "seen": sum(count_in(r) for r in seen.values()), **span,
                "start_offsets": _by_partition(self.start_offsets), "end_offsets": _by_partition(self.end_offsets)}


def _by_partition(offsets: dict[int, int]) -> dict[str, int]:
    return {str(p): o for p, o in sorted(offsets.items()) if o >= 0}
