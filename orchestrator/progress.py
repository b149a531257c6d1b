"""The live progress line of ``apply``: phase, elapsed and remaining time, live rates.

On a terminal it redraws one line in place (``\\r``); anywhere else it stays silent, so logs and
CI output hold only the final headline. The CLI hands the Progress to ``apply``; library code
never prints. Ansible's task events (provisioning, teardown, remote components) arrive through
``Progress.ansible``, possibly from the threads that run playbooks in the background.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TextIO

from orchestrator.remote.ansible import TaskEvent

REDRAW_EVERY_S = 0.5


@dataclass(frozen=True)
class Snapshot:
    phase: str
    elapsed_s: float
    remaining_s: float
    produced_per_s: float = 0.0
    consumed_per_s: float = 0.0
    errors: int = 0

    def line(self) -> str:
        text = (f"{self.phase} · {_clock(self.elapsed_s)} elapsed · {_clock(self.remaining_s)} left · "
                f"produce {self.produced_per_s:,.0f}/s · consume {self.consumed_per_s:,.0f}/s")
        return text + (f" · {self.errors} errors" if self.errors else "")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Silent: the progress of a run that nobody watches."""

    @classmethod
    def for_stream(cls, stream: TextIO) -> "Progress":
        return LiveProgress(stream) if stream.isatty() else cls()

    def step(self, text: str) -> None:
        """A one-off step such as 'starting the local broker'."""

    def ansible(self, event: TaskEvent) -> None:
        """An Ansible task event (an EventSink): the task that starts, or the host it failed on."""
        if event.status == "started":
            self.step(f"ansible: {event.host}: {event.task}")
        elif event.status in ("failed", "unreachable"):
            self.step(f"ansible: {event.host}: {event.task}: {event.status}")

    def update(self, snapshot: Snapshot) -> None:
        """The latest state of the running phase."""

    def close(self) -> None:
        """Leave the terminal on a fresh line."""


class LiveProgress(Progress):
    def __init__(self, stream: TextIO):
        self.stream = stream
        self._width = 0
        self._last = 0.0
        self._lock = threading.Lock()  # playbook threads report steps while the run updates

    def _draw(self, text: str) -> None:
        with self._lock:
            self.stream.write("\r" + text.ljust(self._width))
            self.stream.flush()
            self._width = len(text)

    def step(self, text: str) -> None:
        self._draw(text + " …")

    def update(self, snapshot: Snapshot) -> None:
        now = time.monotonic()
        if now - self._last >= REDRAW_EVERY_S:
            self._last = now
            self._draw(snapshot.line())

    def close(self) -> None:
        with self._lock:
            if self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
                self._width = 0
