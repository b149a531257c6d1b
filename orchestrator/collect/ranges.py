"""Sequence ranges ▶ lost messages: what producers had acknowledged that no consumer saw.

Ranges are ``[[first, last], ...]`` (inclusive) per key ``"<producer_id>/<partition>"``, as the
native runner writes them in its end records (``acked_ranges``, ``seen_ranges``).
"""

from __future__ import annotations

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


def missing(acked: Ranges, seen: Ranges) -> int:
    """How many acknowledged numbers are in no seen span (|acked ∖ seen|)."""
    lost = 0
    for key, spans in acked.items():
        covered = seen.get(key, [])
        i = 0
        for first, last in spans:
            count = last - first + 1
            while i < len(covered) and covered[i][1] < first:
                i += 1
            j = i
            while j < len(covered) and covered[j][0] <= last:
                count -= min(last, covered[j][1]) - max(first, covered[j][0]) + 1
                j += 1
            lost += count
    return lost
