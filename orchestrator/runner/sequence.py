"""Sequence numbers per (producer id, partition), and the ranges that prove what was acked or seen.

Ranges are sorted, disjoint, inclusive ``[first, last]`` pairs. The collector computes
``lost = |acked ∖ seen|`` by unioning the ranges of every instance of a topic's producers and
consumers under the same ``"<producer id>/<partition>"`` key.
"""

from __future__ import annotations

import bisect
import struct

# Every native message starts with this 26-byte prefix: magic, producer id, sequence number, and the
# send time in µs since the epoch (the record's CreateTime has only ms, too coarse on a fast broker).
MAGIC = b"\xa7\x02"
PREFIX = struct.Struct(">2sQQQ")
PREFIX_BYTES = PREFIX.size


def stream_key(producer_id: int, partition: int) -> str:
    return f"{producer_id:016x}/{partition}"


def decode_prefix(value: bytes | None) -> tuple[int, int] | None:
    """(producer id, sequence number), or None when the message does not come from a native producer."""
    if value is None or len(value) < PREFIX_BYTES or value[:2] != MAGIC:
        return None
    _, producer_id, seq, _ = PREFIX.unpack_from(value)
    return producer_id, seq


def acked_ranges(sent: int, failed: list[int]) -> list[list[int]]:
    """Ranges of 0..sent-1 without the failed sequence numbers (every message gets exactly one report)."""
    out, start = [], 0
    for seq in sorted(set(failed)):
        if seq > start:
            out.append([start, seq - 1])
        start = seq + 1
    if start < sent:
        out.append([start, sent - 1])
    return out


def count_in(ranges: list[list[int]]) -> int:
    return sum(last - first + 1 for first, last in ranges)


class SeenRanges:
    """What a consumer saw of one (producer, partition) stream.

    A number seen before is a duplicate; a new number below the highest one seen is out of order
    (it fills a gap); anything else extends or opens a range. The common case, the next number,
    is one comparison and one store.
    """

    __slots__ = ("firsts", "lasts")

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []

    def add(self, seq: int) -> str:
        """Record ``seq``; returns "new", "duplicate" or "out_of_order"."""
        lasts = self.lasts
        if lasts and seq == lasts[-1] + 1:
            lasts[-1] = seq
            return "new"
        if not lasts or seq > lasts[-1]:
            self.firsts.append(seq)
            lasts.append(seq)
            return "new"
        i = bisect.bisect_left(lasts, seq)  # first range whose last >= seq
        if self.firsts[i] <= seq:
            return "duplicate"
        self._insert(i, seq)
        return "out_of_order"

    def _insert(self, i: int, seq: int) -> None:
        firsts, lasts = self.firsts, self.lasts
        joins_prev = i > 0 and lasts[i - 1] == seq - 1
        joins_next = firsts[i] == seq + 1
        if joins_prev and joins_next:
            lasts[i - 1] = lasts[i]
            del firsts[i], lasts[i]
        elif joins_prev:
            lasts[i - 1] = seq
        elif joins_next:
            firsts[i] = seq
        else:
            firsts.insert(i, seq)
            lasts.insert(i, seq)

    def ranges(self) -> list[list[int]]:
        return [[f, l] for f, l in zip(self.firsts, self.lasts)]
