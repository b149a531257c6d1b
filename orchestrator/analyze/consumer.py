"""Consumer figures: how fast the consumers drained a backlog, and whether their position lag stayed
bounded under a producer rate. One place for them, so every answer and verdict about consumers
reads them the same way.

Position lag is the runners' own (``consume.position_lag``: the high watermark minus the consumer's position,
summed over its partitions and instances each second), not the group's committed offsets.

A drain's window runs from the first second in which a consumer received a message after the
release (``backlog_written`` event) to the end of the second in which the consumers had received
as many messages as the backlog holds; its rates are the backlog over that window. Seconds are
whole, so a backlog should take ten seconds or more to drain for its rate to be known to 10 %.

Lag growth is the least-squares slope of the position lag over a window (``window.series_slope``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from orchestrator.analyze.slo import Measured, observe, per_second
from orchestrator.analyze.window import Window
from orchestrator.plan.metrics import spec
from orchestrator.plan.models import ConsumerWorkload, DrainPhase, Plan
from orchestrator.summary import Event

# the backlog_written event's detail, as the drain driver writes it
_BACKLOG = re.compile(r"^(\d+) messages \((\d+) bytes\) acknowledged")


def drain_phase(plan: Plan) -> DrainPhase | None:
    return next((p for p in plan.phases if isinstance(p, DrainPhase)), None)


def consumer_instances(plan: Plan) -> int:
    return sum(w.instances for w in plan.workloads if isinstance(w, ConsumerWorkload))


@dataclass(frozen=True)
class Drain:
    phase: str
    released: float  # epoch seconds: when the consumers were told to start
    backlog_messages: int  # acknowledged by the producers
    backlog_bytes: int
    first: float | None  # start of the first second with a message received after the release
    until: float | None  # end of the second that completed the backlog (drained), or of the last one with data
    read_messages: float  # received in [first, until)

    @property
    def drained(self) -> bool:
        return self.read_messages >= self.backlog_messages > 0

    @property
    def seconds(self) -> float:
        return (self.until - self.first) if self.first is not None and self.until is not None else 0.0

    @property
    def msgs_per_s(self) -> float | None:
        read = min(self.read_messages, self.backlog_messages)
        return read / self.seconds if self.seconds else None

    @property
    def bytes_per_s(self) -> float | None:
        """The backlog's bytes over the window, in proportion to what was read of it."""
        rate = self.msgs_per_s
        return rate * self.backlog_bytes / self.backlog_messages if rate is not None and self.backlog_messages else None


def drain_figures(plan: Plan, measured: Measured, events: list[Event]) -> Drain | None:
    """The drain of the plan's drain phase; None when the consumers were never released."""
    phase = drain_phase(plan)
    release = next((e for e in events if e.kind == "backlog_written" and phase and e.name == phase.name), None)
    match = _BACKLOG.match(release.detail) if release is not None else None
    if phase is None or match is None:
        return None
    backlog, nbytes = int(match.group(1)), int(match.group(2))
    timeline = measured.timeline
    received = per_second(timeline, spec("consume.rate"), None) or []
    span = next((p for p in measured.phases if p.name == phase.name), None)
    end = span.end if span is not None and span.end is not None else timeline.start + timeline.length
    # an interval is put at the second of its midpoint: the first one after the release lands here
    begin = math.floor(release.ts + 0.5)
    first = until = None
    read = 0.0
    for ts in range(max(begin, timeline.start), min(int(end) + 1, timeline.start + timeline.length)):
        count = received[ts - timeline.start] or 0.0
        if count <= 0 and first is None:
            continue
        first = float(ts) if first is None else first
        read += count
        if count > 0:
            until = float(ts + 1)
        if read >= backlog:
            break
    return Drain(phase.name, release.ts, backlog, nbytes, first, until, read)


@dataclass(frozen=True)
class Sustain:
    window: Window
    input_msgs_per_s: float | None  # what the producers had acknowledged, over the window
    consumed_msgs_per_s: float | None
    lag_growth: float | None  # msg/s: the slope of the position lag over the window
    max_lag: float | None


def sustain_figures(measured: Measured, window: Window, workload: str | None = None) -> Sustain:
    """The consumers (``workload``, or all) against every producer over the window."""
    return Sustain(window=window,
                   input_msgs_per_s=observe(measured, spec("produce.rate"), None, window, whole_run=False),
                   consumed_msgs_per_s=observe(measured, spec("consume.rate"), workload, window, whole_run=False),
                   lag_growth=lag_growth(measured, window, workload),
                   max_lag=observe(measured, spec("consume.position_lag"), workload, window, whole_run=False))


def lag_growth(measured: Measured, window: Window, workload: str | None = None) -> float | None:
    """msg/s by which the position lag grew over the window (negative: it shrank); the SLO metric
    consume.lag_growth."""
    return observe(measured, spec("consume.lag_growth"), workload, window, whole_run=False)
