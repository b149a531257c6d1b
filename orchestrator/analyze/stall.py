"""Stalls: seconds in which messages were outstanding but none completed.

A per-second latency series has no value in a second without a single acknowledgement (or, for a
consumer, a single message), and a ``sustained`` SLO read such a second as a gap that breaks its
streak: a total stall hid itself. A stalled second is not a second without data: every message still
outstanding will have a latency at least as long as it has already waited. So such a second gets a
lower bound on its latency, the time the oldest outstanding message had waited by its end:

- ``publish_latency``, ``corrected_latency`` (a producer workload): messages in flight at the end of
  the second (``produce.in_flight`` > 0, recorded by the native runner): ``produce.oldest_in_flight``.
  A corrected latency is never shorter than the publish latency, so the bound holds for both.
- ``e2e_latency`` (a consumer workload): once the consumer has received anything, a second in which it
  received nothing (or wrote no record) while the native producers of its topic had sent since its
  last receipt: every message sent after that receipt is still unconsumed, so the oldest has waited
  at least since the end of the first second in which one was sent.

Seconds that had a value keep it; JMeter's elapsed time and the publish delay get no bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestrator.collect.timeline import SeriesKey, Timeline
from orchestrator.plan.models import Plan

# consumer workload ▶ the native producer workloads writing to its topic
Feeds = Mapping[str, Sequence[str]]
PRODUCER_KINDS = ("publish_latency", "corrected_latency")
CONSUMER_KINDS = ("e2e_latency",)


def feeds(plan: Plan) -> dict[str, list[str]]:
    producers = [w for w in plan.workloads if w.kind == "producer" and w.engine == "native"]
    return {c.name: [p.name for p in producers if p.topic == c.topic]
            for c in plan.workloads if c.kind == "consumer" and c.engine == "native"}


def stall_workloads(timeline: Timeline, kind: str, sources: Feeds) -> list[str]:
    """The workloads whose ``kind`` latency may have stalled seconds."""
    if kind in PRODUCER_KINDS:
        return sorted({k.workload for k in timeline.select("produce.in_flight") if k.workload is not None})
    if kind in CONSUMER_KINDS:
        return sorted(c for c, producers in sources.items() if producers)
    return []


def waited_ms(timeline: Timeline, kind: str, workload: str, sources: Feeds) -> list[float | None]:
    """Per second: the least time (ms) the oldest outstanding message of ``workload`` had waited,
    where the second was stalled; None elsewhere. Only meaningful where the latency series is None."""
    if kind in PRODUCER_KINDS:
        return _in_flight_wait(timeline, workload)
    if kind in CONSUMER_KINDS:
        return _unconsumed_wait(timeline, workload, sources.get(workload, ()))
    return [None] * timeline.length


def _series(timeline: Timeline, metric: str, workload: str) -> list[float | None]:
    return timeline.series.get(SeriesKey(metric, workload=workload)) or [None] * timeline.length


def _in_flight_wait(timeline: Timeline, producer: str) -> list[float | None]:
    waiting = _series(timeline, "produce.in_flight", producer)
    oldest = _series(timeline, "produce.oldest_in_flight", producer)
    return [wait if n and wait is not None else None for n, wait in zip(waiting, oldest)]


def _unconsumed_wait(timeline: Timeline, consumer: str, producers: Sequence[str]) -> list[float | None]:
    received = _series(timeline, "consume.rate", consumer)
    sent = [_series(timeline, "produce.sent", p) for p in producers]
    out: list[float | None] = [None] * timeline.length
    has_received, first_unconsumed = False, None  # the second of the first send since the last receipt
    for i, got in enumerate(received):
        if got:
            has_received, first_unconsumed = True, None
            continue
        if has_received and first_unconsumed is None and any(s[i] for s in sent):
            first_unconsumed = i
        if first_unconsumed is not None:
            out[i] = (i - first_unconsumed) * 1000.0
    return out
