"""raw/events.jsonl: an append-only log of what happened when, one ``summary.Event`` per line.

Every line is flushed as it is written, so a run that is killed keeps the events up to that moment.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Literal

from orchestrator.summary import Event

EventKind = Literal["run_start", "run_end", "phase_start", "phase_end", "fault_start", "fault_end",
                    "slo_breach", "abort", "interrupt"]


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
