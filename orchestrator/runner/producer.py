"""The native producer: an open-model load generator with three latencies per message.

    publish latency   = ack − actual send      (librdkafka's own per-message measure)
    publish delay     = actual send − intended send
    corrected latency = ack − intended send    (free of coordinated omission)

In an unthrottled phase the intended send time is the actual one: the delay is 0 and the corrected
latency equals the publish latency. Acks are recorded in the interval in which they arrive.

Every interval also says how many messages are in flight (sent, no delivery report yet) and how long
the oldest of them has waited at least, so that a second without acks while messages wait reads as
the stall it is, not as a second without data (see ``SendMarks``).

Before its first send the producer waits (bounded by ``await_timeout_s`` past ``start_at``) until
the run's consumer groups have committed where they start reading every partition
(``orchestrator.runner.groups``): a consumer that starts at the log end must not miss the first
messages. The end record says how long that took (``groups_waited_s``, null when the bound ran out)
and, per stream, the lowest and highest offset of its acknowledged messages (``acked_offsets``),
which tell the loss audit whether a consumer could have read them.

In a search phase the rate is the current probe's, from the control file: each probe has its own
open-model schedule from its start, so a probe that fell behind leaves its backlog behind instead
of sending it at the next probe's rate. A drain phase (always the last) is unthrottled until this
instance's share of the backlog is sent; the producer then waits for its acks and ends, and its end
record tells the orchestrator that its share is acknowledged.
"""

from __future__ import annotations

import os
import random
import time
from collections import deque
from functools import partial

from confluent_kafka import KafkaError, Producer

from orchestrator.runner.client import LOG, RunnerError, StopFlag, client_config, topic_partitions, wait_until
from orchestrator.runner.control import CHECK_NS
from orchestrator.runner.groups import GroupsReady
from orchestrator.runner.histogram import Histogram
from orchestrator.runner.keys import KeyChooser
from orchestrator.runner.payload import fillers
from orchestrator.runner.records import IntervalRole, RecordWriter, public_config
from orchestrator.runner.schedule import TimedPhase
from orchestrator.runner.sequence import MAGIC, PREFIX, acked_ranges, decode_prefix, stream_key
from orchestrator.runner.spec import RunnerSpec

BATCH = 512  # unthrottled: messages between two clock/stop checks
GROUPS_CHECK_S = 0.2
MARK_NS = 100_000_000  # resolution of the oldest in-flight wait: one send mark per 100 ms at most
DEFAULTS = {
    "queue.buffering.max.messages": "1000000",
    "queue.buffering.max.kbytes": "1048576",
    "statistics.interval.ms": "0",
}


class SendInterval:
    """One second's sends and acks; latencies are kept raw and turned into histograms once, at roll-over."""

    __slots__ = ("sent", "errors", "bytes", "zero_delays", "latencies", "late", "delays", "error_codes")

    def __init__(self) -> None:
        self.sent = self.errors = self.bytes = self.zero_delays = 0
        self.error_codes: dict[str, int] = {}  # Kafka error name (KafkaError.name()) -> failed deliveries
        self.latencies: list[float] = []  # ack − send (s) of unthrottled messages: their delay is 0
        self.late: list[tuple[float, int]] = []  # (ack − send in s, delay in µs) of throttled messages
        self.delays: list[int] = []  # µs, of throttled sends

    @property
    def acked(self) -> int:
        return len(self.latencies) + len(self.late)

    def histograms(self) -> dict[str, dict]:
        publish, corrected, delay = Histogram(), Histogram(), Histogram()
        unthrottled = [int(s * 1_000_000) for s in self.latencies]
        late = [(int(s * 1_000_000), d) for s, d in self.late]
        publish.record_all(unthrottled)
        corrected.merge(publish)  # delay 0: corrected = publish latency, without recording it twice
        publish.record_all(lat for lat, _ in late)
        corrected.record_all(lat + d for lat, d in late)
        delay.record_all(self.delays)
        delay.record_many(0, self.zero_delays)
        return {"publish_latency": publish.to_dict(), "publish_delay": delay.to_dict(),
                "corrected_latency": corrected.to_dict()}


class SendMarks:
    """A lower bound on how long the oldest in-flight message has waited, without a timestamp per message.

    Each mark is (messages sent so far, a time by which all of them had been sent). With ``done``
    messages finished (acked or failed) in whatever order, the oldest unfinished one is among the
    first ``done + 1`` sent (were those all finished, ``done`` would be larger), so it was sent by
    the time of the first mark that counts more than ``done`` messages. Marks are at most
    ``MARK_NS`` apart in time, so a long stall keeps about ten a second, not one per message."""

    def __init__(self) -> None:
        self._marks: deque[tuple[int, int]] = deque()
        self._opened = 0  # when the newest mark began; sends within MARK_NS move it forward

    def sent(self, total: int, now_ns: int) -> None:
        if self._marks and now_ns - self._opened < MARK_NS:
            self._marks[-1] = (total, now_ns)
        else:
            self._marks.append((total, now_ns))
            self._opened = now_ns

    def oldest_wait_ns(self, done: int, now_ns: int) -> int:
        """0 when nothing is in flight."""
        marks = self._marks
        while marks and marks[0][0] <= done:
            marks.popleft()
        return max(0, now_ns - marks[0][1]) if marks else 0


class NativeProducer(IntervalRole):
    interval_type = SendInterval
    total_names = ("sent", "acked", "errors", "bytes")

    def __init__(self, spec: RunnerSpec, writer: RecordWriter, stop: StopFlag):
        super().__init__(spec, writer)
        self.stop = stop
        self.producer_id = int.from_bytes(os.urandom(8), "big") >> 1
        self.rng = random.Random(spec.seed)
        self.fillers = fillers(spec.message, self.rng)
        self.seqs: list[int] = []
        self.low_offsets: list[int] = []  # per partition, of the acked messages; -1 before the first
        self.high_offsets: list[int] = []
        self.groups_waited_s: float | None = 0.0
        self.failed: dict[int, list[int]] = {}
        self.fatal: str | None = None
        self.producer: Producer | None = None
        self.keys: KeyChooser | None = None
        self.marks = SendMarks()

    # ------------------------------------------------------------------ lifecycle

    def run(self) -> None:
        config = client_config(self.spec, DEFAULTS)
        self.producer = Producer({**config, "error_cb": self._client_error}, logger=LOG)
        partitions = topic_partitions(self.producer, self.spec.topic, self.spec.connect_timeout_s)
        self.seqs = [0] * partitions
        self.low_offsets, self.high_offsets = [-1] * partitions, [-1] * partitions
        sticky = max(1, int(config.get("batch.size", "65536")) // max(1, len(self.fillers[0]) + PREFIX.size))
        self.keys = KeyChooser(self.spec.keys, partitions, sticky, self.rng)
        self.writer.start(public_config(self.spec), producer_id=self._id_text())
        try:
            if self._await_groups(partitions) and wait_until(self.phases[0].start_ns, self.stop, self.producer.poll):
                for tp in self.phases:
                    if not self._go():
                        break
                    self._phase_loop(tp)(tp)
        finally:
            self._finish()
        if self.fatal:
            raise RunnerError(self.fatal)

    def _await_groups(self, partitions: int) -> bool:
        """Wait for the consumer groups (see the module docstring); False if stopped meanwhile."""
        if not self.spec.await_groups:
            return True
        groups = GroupsReady(self.spec, partitions)
        began = time.time_ns()
        deadline = max(began, self.phases[0].start_ns) + int(self.spec.await_timeout_s * 1e9)
        try:
            while not groups.check():
                if time.time_ns() >= deadline:
                    self.groups_waited_s = None
                    return True
                if not wait_until(min(deadline, time.time_ns() + int(GROUPS_CHECK_S * 1e9)), self.stop, self.producer.poll):
                    return False
        finally:
            groups.close()
        self.groups_waited_s = (time.time_ns() - began) / 1e9
        return True

    def _go(self) -> bool:
        limit = self.spec.max_messages
        return not self.stop.requested and not self.fatal and (limit is None or self._sent() < limit)

    def _sent(self) -> int:
        return self.totals["sent"] + self.cur.sent

    def _finish(self) -> None:
        """Wait (bounded) for outstanding acks, give up on the rest, and close the last interval."""
        deadline = time.time_ns() + int(self.spec.flush_timeout_s * 1e9)
        while len(self.producer) and time.time_ns() < deadline:
            self.producer.flush(0.2)
            self.roll_if_due(time.time_ns())
        if len(self.producer):
            self.producer.purge()  # each purged message gets a failed delivery report
            self.producer.flush(1.0)
        now = time.time_ns()
        self.roll_if_due(now)
        self.roll(now)

    def end_fields(self) -> dict:
        ranges = {stream_key(self.producer_id, p): acked_ranges(sent, self.failed.get(p, []))
                  for p, sent in enumerate(self.seqs) if sent}
        offsets = {stream_key(self.producer_id, p): [low, high]
                   for p, (low, high) in enumerate(zip(self.low_offsets, self.high_offsets)) if low >= 0}
        return {**self.totals, "producer_id": self._id_text(), "acked_ranges": ranges, "acked_offsets": offsets,
                "groups_waited_s": self.groups_waited_s}

    def _id_text(self) -> str:
        return f"{self.producer_id:016x}"

    # ------------------------------------------------------------------ sending

    def _phase_loop(self, tp: TimedPhase):
        if tp.phase.kind == "search":
            return self._controlled
        return self._throttled if tp.throttled else self._unthrottled

    def _unthrottled(self, tp: TimedPhase) -> None:
        """As fast as the client takes them, until the phase ends or, in a drain, its backlog is sent."""
        poll, limit = self.producer.poll, self.spec.max_messages
        if tp.phase.messages is not None:
            limit = self._sent() + tp.phase.messages if limit is None else min(limit, self._sent() + tp.phase.messages)
        while self._go() and (limit is None or self._sent() < limit):
            now = time.time_ns()
            if now >= tp.end_ns:
                return
            self.roll_if_due(now)
            n = BATCH if limit is None else min(BATCH, limit - self._sent())
            self._burst(n, self._acked)
            self.cur.zero_delays += n
            poll(0)

    def _throttled(self, tp: TimedPhase) -> None:
        k, poll = 0, self.producer.poll
        while self._go():
            intended = tp.intended_ns(k)
            if intended is None:
                return
            if not wait_until(intended, self.stop, self._serve):
                return
            now = time.time_ns()
            self.roll_if_due(now)
            delay_us = (now - intended) // 1000
            self.cur.delays.append(delay_us)
            self._burst(1, partial(self._acked_late, delay_us))
            k += 1
            poll(0)

    def _controlled(self, tp: TimedPhase) -> None:
        reader, poll, name = self.control, self.producer.poll, self.spec.workload
        seen, probe = None, None
        start, rate, k = tp.start_ns, tp.phase.rate_from, 0
        end = switch = tp.end_ns
        while self._go():
            now = time.time_ns()
            self.roll_if_due(now)
            control = reader.refresh(now)
            if control is not seen or now >= switch:
                seen, current = control, reader.probe_at(now)
                if current is not None and (current.name, current.start_ns) != probe:
                    probe, start, k = (current.name, current.start_ns), current.start_ns, 0
                    rate = current.rates.get(name, rate)
                end = min(tp.end_ns, control.end_ns or tp.end_ns)
                switch = min(reader.next_start(now) or end, end)
            if now >= end:
                return
            intended = start + int(k * 1e9 / rate)
            if intended > now:
                if not wait_until(min(intended, switch, now + CHECK_NS), self.stop, self._serve):
                    return
                continue
            delay_us = (now - intended) // 1000
            self.cur.delays.append(delay_us)
            self._burst(1, partial(self._acked_late, delay_us))
            k += 1
            poll(0)

    def _burst(self, n: int, on_delivery) -> None:
        """Send ``n`` messages back to back: the hot path, so everything it touches is a local."""
        produce, next_key, pack, topic = self.producer.produce, self.keys.next, PREFIX.pack, self.spec.topic
        seqs, fillers, pid, clock = self.seqs, self.fillers, self.producer_id, time.time_ns
        n_fillers, nbytes, counted = len(fillers), 0, 0
        for i in range(n):
            key, partition = next_key()
            seq = seqs[partition]
            seqs[partition] = seq + 1
            value = pack(MAGIC, pid, seq, clock() // 1000) + fillers[seq % n_fillers]
            while True:
                try:
                    produce(topic, value, key, partition, on_delivery)
                    break
                except BufferError:
                    # local queue full: count what went out, let librdkafka drain, and keep writing
                    # intervals, so that a stalled broker shows as seconds with messages in flight
                    self._count_sent(i - counted, nbytes)
                    counted, nbytes = i, 0
                    self.producer.poll(0.001)
                    self.roll_if_due(clock())
            nbytes += len(value)
        self._count_sent(n - counted, nbytes)

    def _count_sent(self, n: int, nbytes: int) -> None:
        cur = self.cur
        cur.sent += n
        cur.bytes += nbytes
        self.marks.sent(self._sent(), time.time_ns())

    def _serve(self, timeout_s: float) -> None:
        self.producer.poll(timeout_s)
        self.roll_if_due(time.time_ns())

    # ------------------------------------------------------------------ delivery reports

    def _acked(self, err: KafkaError | None, msg) -> None:
        if err is None:
            self.cur.latencies.append(msg.latency())
            self._offset(msg)
        else:
            self._failed(err, msg)

    def _acked_late(self, delay_us: int, err: KafkaError | None, msg) -> None:
        if err is None:
            self.cur.late.append((msg.latency(), delay_us))
            self._offset(msg)
        else:
            self._failed(err, msg)

    def _offset(self, msg) -> None:
        partition, offset = msg.partition(), msg.offset()
        if self.low_offsets[partition] < 0 or offset < self.low_offsets[partition]:
            self.low_offsets[partition] = offset
        if offset > self.high_offsets[partition]:
            self.high_offsets[partition] = offset

    def _failed(self, err: KafkaError, msg) -> None:
        self.cur.errors += 1
        codes = self.cur.error_codes
        codes[err.name()] = codes.get(err.name(), 0) + 1
        decoded = decode_prefix(msg.value())
        if decoded is not None:
            self.failed.setdefault(msg.partition(), []).append(decoded[1])

    def _client_error(self, err: KafkaError) -> None:
        if err.fatal():
            self.fatal = f"fatal client error: {err.str()}"

    # ------------------------------------------------------------------ intervals

    def interval_fields(self, cur: SendInterval, tp: TimedPhase | None, start_ns: int, end_ns: int) -> dict:
        # the totals already hold this interval (``roll`` adds it first)
        done = self.totals["acked"] + self.totals["errors"]
        return {"sent": cur.sent, "acked": cur.acked, "errors": cur.errors, "bytes": cur.bytes,
                "in_flight": self.totals["sent"] - done,
                "oldest_in_flight_ms": self.marks.oldest_wait_ns(done, end_ns) / 1e6,
                "target_rate": self._target_rate(tp, (start_ns + end_ns) // 2), "hist": cur.histograms(),
                **({"error_codes": cur.error_codes} if cur.error_codes else {})}

    def _target_rate(self, tp: TimedPhase | None, t_ns: int) -> float | None:
        if tp is None:
            return None
        if tp.phase.kind == "search":
            probe = self.control.probe_at(t_ns)
            return probe.rates.get(self.spec.workload, tp.phase.rate_from) if probe else tp.phase.rate_from
        return tp.rate_at(t_ns)
