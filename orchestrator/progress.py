"""The live progress of ``apply``: phase, elapsed and remaining time, rates, p99s, lag, errors.

On a terminal it redraws one line in place (``\\r``). Anywhere else (a CI log, a file, a pipe) it
prints one plain, timestamped line every ``every_s`` seconds, as JMeter's summariser and Kafka's perf
tools do, so a day-long soak is not silent until it ends; ``every_s`` 0 keeps it silent. The CLI
hands the Progress to ``apply``; library code never prints. Ansible's task events (provisioning,
teardown, remote components) arrive through ``Progress.ansible``, possibly from the threads that
run playbooks in the background.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

from orchestrator.remote.ansible import TaskEvent

REDRAW_EVERY_S = 0.5
PLAIN_EVERY_S = 10.0


@dataclass(frozen=True)
class Snapshot:
    phase: str
    elapsed_s: float
    remaining_s: float
    produced_per_s: float = 0.0
    consumed_per_s: float = 0.0
    errors: int = 0
    publish_p99_ms: float | None = None  # the newest second's, worst instance
    e2e_p99_ms: float | None = None
    lag: int | None = None  # consumers' position lag, summed

    def line(self) -> str:
        produce = f"produce {self.produced_per_s:,.0f}/s" + _p99(self.publish_p99_ms)
        consume = f"consume {self.consumed_per_s:,.0f}/s" + _p99(self.e2e_p99_ms, "e2e ")
        text = (f"{self.phase} · {_clock(self.elapsed_s)} elapsed · {_clock(self.remaining_s)} left · "
                f"{produce} · {consume}")
        text += f" · lag {self.lag:,}" if self.lag is not None else ""
        return text + (f" · {self.errors} errors" if self.errors else "")


def _p99(value_ms: float | None, what: str = "") -> str:
    if value_ms is None:
        return ""
    return f" ({what}p99 {value_ms:,.0f} ms)" if value_ms >= 100 else f" ({what}p99 {value_ms:.3g} ms)"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Silent: the progress of a run that nobody watches."""

    @classmethod
    def for_stream(cls, stream: TextIO, every_s: float = PLAIN_EVERY_S) -> "Progress":
        if stream.isatty():
            return LiveProgress(stream)
        return PlainProgress(stream, every_s) if every_s > 0 else cls()

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


class PlainProgress(Progress):
    """One line per step and one every ``every_s`` seconds of the run, each with its UTC time."""

    def __init__(self, stream: TextIO, every_s: float):
        self.stream, self.every_s = stream, every_s
        self._next = 0.0
        self._lock = threading.Lock()

    def _print(self, text: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%H:%M:%S")
        with self._lock:
            self.stream.write(f"{stamp} {text}\n")
            self.stream.flush()

    def step(self, text: str) -> None:
        self._print(text)

    def update(self, snapshot: Snapshot) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.every_s
            self._print(snapshot.line())
