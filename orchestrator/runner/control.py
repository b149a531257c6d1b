"""The control file of a search or drain phase: the orchestrator's decisions as it makes them, read
by runners.

    {"probes": [{"name": "search/1", "start": 1795597141.51, "rates": {"load": 2500.0}}, ...],
     "end": null, "release": null}

``rates`` are per instance, by workload. A probe is announced before its ``start`` (an epoch
second on the runners' interval grid), so every instance changes rate at the same moment; ``end``
is when the search or drain phase ends, also announced ahead; ``release`` is when the consumers of a
drain phase start reading the backlog (a drain has no probes). The orchestrator writes the whole file to a
temporary name and renames it into place, so a reader never sees half of it; a runner looks at the
file at most every ``CHECK_NS`` and re-reads it only when it changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

CHECK_NS = 100_000_000


@dataclass(frozen=True)
class Probe:
    name: str
    start_ns: int
    rates: dict[str, float]  # per instance, by workload


@dataclass(frozen=True)
class Control:
    probes: tuple[Probe, ...] = ()
    end_ns: int | None = None
    release_ns: int | None = None

    def to_json(self) -> str:
        return json.dumps({"probes": [{"name": p.name, "start": p.start_ns / 1e9, "rates": p.rates} for p in self.probes],
                           "end": _seconds(self.end_ns), "release": _seconds(self.release_ns)})


def _seconds(ns: int | None) -> float | None:
    return None if ns is None else ns / 1e9


def _ns(seconds: object) -> int | None:
    return None if seconds is None else int(float(seconds) * 1e9)


def parse_control(text: str) -> Control:
    """Raises ValueError when the text is not a control file."""
    try:
        data = json.loads(text)
        probes = tuple(Probe(str(p["name"]), int(float(p["start"]) * 1e9),
                             {str(k): float(v) for k, v in p["rates"].items()}) for p in data["probes"])
        return Control(tuple(sorted(probes, key=lambda p: p.start_ns)), _ns(data.get("end")), _ns(data.get("release")))
    except (KeyError, TypeError, ValueError, AttributeError, json.JSONDecodeError) as err:
        raise ValueError(f"not a control file: {err}") from None


def write_control(path: Path, control: Control) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(control.to_json(), encoding="utf-8")
    os.replace(partial, path)


class ControlReader:
    """A runner's view of the control file, refreshed when it changed (checked every ``CHECK_NS``).
    A missing or unreadable file keeps the last good view: the search goes on at the current rate."""

    def __init__(self, path: Path):
        self.path = path
        self.control = Control()
        self._next_check = 0
        self._seen: tuple[int, int, int] | None = None

    def refresh(self, now_ns: int) -> Control:
        if now_ns < self._next_check:
            return self.control
        self._next_check = now_ns + CHECK_NS
        try:
            stat = self.path.stat()
            changed = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a rename is a new inode
            if changed != self._seen:
                self.control = parse_control(self.path.read_text(encoding="utf-8"))
                self._seen = changed
        except (OSError, ValueError):
            pass
        return self.control

    def probe_at(self, t_ns: int) -> Probe | None:
        """The probe in force at ``t_ns``: the last one that started by then."""
        current = None
        for probe in self.control.probes:
            if probe.start_ns > t_ns:
                break
            current = probe
        return current

    def next_start(self, t_ns: int) -> int | None:
        """When the next announced probe starts after ``t_ns``, if one is announced."""
        return next((p.start_ns for p in self.control.probes if p.start_ns > t_ns), None)
