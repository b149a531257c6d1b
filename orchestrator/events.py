"""raw/events.jsonl: an append-only log of what happened when, one ``summary.Event`` per line.

Every line is flushed as it is written, so a run that is killed keeps the events up to that moment.
A step of a steps phase or a probe of a search is a ``step_start`` named ``step_name`` with
``step_detail`` (its role and intended rate), and a ``step_end``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Literal

from orchestrator.summary import Event

EventKind = Literal["run_start", "run_end", "phase_start", "phase_end", "step_start", "step_end", "fault_start",
                    "fault_end", "slo_breach", "abort", "interrupt", "backlog_written", "backlog_drained"]


class EventLog:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, kind: EventKind, name: str = "", detail: str = "", ts: float | None = None) -> Event:
        event = Event(ts=time.time() if ts is None else ts, kind=kind, name=name, detail=detail)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(event.model_dump_json() + "\n")
        return event


def step_name(phase: str, n: int) -> str:
    """The name of step ``n`` (from 1) of a phase."""
    return f"{phase}/{n}"


def step_detail(role: str, rate: float) -> str:
    """A step_start's detail: ``step``, ``probe`` or ``confirm``, and the intended msg/s."""
    return f"{role} {rate:.10g} msg/s"
