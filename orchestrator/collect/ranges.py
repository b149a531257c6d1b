"""Sequence ranges ▶ lost messages: what producers had acknowledged that no consumer saw, and
could have seen.

Ranges are ``[[first, last], ...]`` (inclusive) per key ``"<producer_id>/<partition>"``, as the
native runner writes them in its end records (``acked_ranges``, ``seen_ranges``). A consumer that
started at the log end (``start: latest``) never reads what was written before its start, and one that stopped before it had read everything (its drain bound ran out)
never reads the rest: ``audit`` tells those apart from losses with the offsets both runners record
(``first_offsets``/``last_offsets`` of a producer's streams, ``start_offsets``/``end_offsets`` of a
consumer's partitions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Ranges = dict[str, list[tuple[int, int]]]


def coalesce(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping, non-adjacent spans covering the same numbers."""
    out: list[tuple[int, int]] = []
    for first, last in sorted(spans):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def add_ranges(into: Ranges, data: object) -> None:
    """Add one end record's ranges; raises ValueError when they are malformed."""
    if not isinstance(data, dict):
        raise ValueError("ranges must be an object")
    for key, spans in data.items():
        try:
            parsed = [(int(first), int(last)) for first, last in spans]
        except TypeError as err:
            raise ValueError(f"malformed ranges under {key!r}: {err}") from err
        if any(first > last for first, last in parsed):
            raise ValueError(f"range with first > last under {key!r}")
        into[key] = coalesce(into.get(key, []) + parsed)


def subtract(spans: list[tuple[int, int]], covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The numbers of ``spans`` in no ``covered`` span (both sorted and coalesced)."""
    out, i = [], 0
    for first, last in spans:
        while i < len(covered) and covered[i][1] < first:
            i += 1
        at, j = first, i
        while j < len(covered) and covered[j][0] <= last:
            if covered[j][0] > at:
                out.append((at, covered[j][0] - 1))
            at = max(at, covered[j][1] + 1)
            j += 1
        if at <= last:
            out.append((at, last))
    return out


def count(spans: list[tuple[int, int]]) -> int:
    return sum(last - first + 1 for first, last in spans)


def _split(spans: list[tuple[int, int]], at: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(the numbers below ``at``, the rest)."""
    below = [(f, min(l, at - 1)) for f, l in spans if f < at]
    return below, [(max(f, at), l) for f, l in spans if l >= at]


BEFORE_START = "before_start"
AFTER_STOP = "after_stop"


@dataclass
class LossAudit:
    """|acked ∖ seen|, less what the consumer could not have seen: ``excluded`` by reason, as
    (messages, partitions)."""

    lost: int = 0
    excluded: dict[str, tuple[int, set[int]]] = field(default_factory=dict)

    def exclude(self, reason: str, spans: list[tuple[int, int]], partition: int) -> None:
        if spans:
            n, partitions = self.excluded.get(reason, (0, set()))
            self.excluded[reason] = (n + count(spans), partitions | {partition})


def audit(acked: Ranges, seen: Ranges, offsets: dict[str, tuple[int, int]] | None = None,
          starts: dict[int, int] | None = None, ends: dict[int, int] | None = None) -> LossAudit:
    """What acked messages no consumer instance saw, per ``"<producer id>/<partition>"`` stream.

    ``offsets``: per stream, the lowest and highest offset its producer had acks for; ``starts``
    and ``ends``: per partition, the lowest offset the consumer started reading at and the highest
    position it had reached when it stopped. A stream's unseen messages below the first one seen
    are excluded when the stream began before the consumer's start (all of them when it ended
    before it); those above the last one seen when it reached the consumer's final position. What
    is left is lost; without offsets everything unseen is lost."""
    result, offsets, starts, ends = LossAudit(), offsets or {}, starts or {}, ends or {}
    for key, spans in acked.items():
        covered = seen.get(key, [])
        unseen = subtract(spans, covered)
        partition = int(key.rpartition("/")[2])
        span = offsets.get(key)
        if unseen and span is not None:
            low, high = span
            start, end = starts.get(partition), ends.get(partition)
            if start is not None and high < start:
                result.exclude(BEFORE_START, unseen, partition)
                unseen = []
            elif start is not None and low < start and covered:
                before, unseen = _split(unseen, covered[0][0])
                result.exclude(BEFORE_START, before, partition)
            if unseen and end is not None and low >= end:
                result.exclude(AFTER_STOP, unseen, partition)
                unseen = []
            elif unseen and end is not None and high >= end and covered:
                unseen, after = _split(unseen, covered[-1][1] + 1)
                result.exclude(AFTER_STOP, after, partition)
        result.lost += count(unseen)
    return result
