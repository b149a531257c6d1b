"""The runner's output: JSON lines, one ``start``, one ``interval`` per second, one ``end``.

Every line is flushed as soon as it is written, so a killed runner leaves everything up to its last
second on disk. The schema is documented in docs/results.md ("Native runner records").
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path
from typing import IO, Any, Iterable

from orchestrator.runner.control import ControlReader
from orchestrator.runner.histogram import Histogram
from orchestrator.runner.schedule import TimedPhase, phase_at, timed_phases
from orchestrator.runner.spec import RunnerSpec

INTERVAL_NS = 1_000_000_000


class RecordWriter:
    def __init__(self, spec: RunnerSpec):
        self.spec = spec
        path = Path(spec.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out: IO[str] = path.open("a", encoding="utf-8")
        self._common = {"workload": spec.workload, "instance": spec.instance, "role": spec.role, "host": spec.host}

    def _write(self, record: dict[str, Any]) -> None:
        self._out.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._out.flush()

    def start(self, config: dict[str, str], **extra: Any) -> None:
        self._write({"type": "start", "ts": time.time(), **self._common, "pid": os.getpid(), **extra, "config": config})

    def interval(self, start_ns: int, end_ns: int, phase: str | None, fields: dict[str, Any]) -> None:
        self._write({"type": "interval", "ts": end_ns / 1e9, "start": start_ns / 1e9, **self._common,
                     "phase": phase, **fields})

    def end(self, reason: str, error: str | None, fields: dict[str, Any]) -> None:
        # the runner's own CPU (its librdkafka threads included): what the load cost the load generator
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self._write({"type": "end", "ts": time.time(), **self._common, "reason": reason, "error": error,
                     "cpu_s": round(usage.ru_utime + usage.ru_stime, 3), **fields})

    def close(self) -> None:
        self._out.close()


# the latency a progress line shows for each role: what the producer waited for, what the consumer saw
LIVE_LATENCY = ("publish_latency", "e2e_latency")


class RecordTail:
    """One runner's latest state as its records arrive, for the progress line: the newest interval's
    rate, p99 and position lag, errors since the start, and whether it ended; and, for a drain, the
    messages and bytes acked or received so far by interval phase. An interval no newer than the
    last one is skipped, so a line that arrives twice (a file read again from its start) counts once."""

    def __init__(self) -> None:
        self.last_ts = 0.0
        self.rate = 0.0  # messages acked or received per second in the newest interval
        self.errors = 0
        self.lag: int | None = None
        self.ended = False
        self.by_phase: dict[str | None, int] = {}  # messages acked or received, by interval phase
        self.bytes_by_phase: dict[str | None, int] = {}
        self._latency: dict | None = None  # decoded only when asked for: most intervals are never shown

    def add(self, lines: Iterable[str | bytes]) -> None:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line the runner is still writing
            self.ended = self.ended or record.get("type") == "end"
            if record.get("type") != "interval" or record.get("ts", 0.0) <= self.last_ts:
                continue
            self.last_ts = record["ts"]
            self.errors += record.get("errors", 0)
            self.lag = record.get("lag", self.lag)
            hists = record.get("hist") or {}
            self._latency = next((hists[name] for name in LIVE_LATENCY if (hists.get(name) or {}).get("count")),
                                 self._latency)
            count, phase = record.get("acked", record.get("received", 0)), record.get("phase")
            self.by_phase[phase] = self.by_phase.get(phase, 0) + count
            self.bytes_by_phase[phase] = self.bytes_by_phase.get(phase, 0) + record.get("bytes", 0)
            seconds = record["ts"] - record.get("start", record["ts"])
            if seconds >= 0.5:  # a short last interval says little about the rate
                self.rate = count / seconds

    def p99_ms(self) -> float | None:
        """p99 of the newest interval that had any latency samples."""
        try:
            latency = Histogram.from_dict(self._latency) if self._latency else None
        except ValueError:
            return None
        return latency.percentile(99.0) / 1000.0 if latency is not None and latency.count else None


def public_config(spec: RunnerSpec) -> dict[str, Any]:
    """The settings worth recording in the start record; secrets are named by env var only."""
    return {
        "bootstrap_servers": spec.bootstrap_servers, "topic": spec.topic, "client_config": spec.client_config,
        "secret_env": spec.secret_env, "start_at": spec.start_at, "max_messages": spec.max_messages,
        "seed": spec.seed, "schedule": [vars(p) for p in spec.schedule],
        "message": vars(spec.message), "keys": vars(spec.keys), "group": spec.group, "start": spec.start,
        "control": spec.control, "await_groups": spec.await_groups,
        "processing": vars(spec.processing) if spec.processing else None,
    }


class IntervalClock:
    """One-second intervals aligned on ``start_at``; ``due(now)`` says when the current one is over."""

    def __init__(self, start_at_s: float):
        self.start_ns = int(start_at_s * 1e9)
        self.end_ns = self.start_ns + INTERVAL_NS

    def due(self, now_ns: int) -> bool:
        return now_ns >= self.end_ns

    def advance(self, now_ns: int) -> tuple[int, int]:
        """Close the current interval, or a partial one ending at ``now``; returns its (start, end)."""
        start = self.start_ns
        end = self.end_ns if now_ns >= self.end_ns else max(now_ns, start)
        self.start_ns, self.end_ns = end, end + INTERVAL_NS
        return start, end


class IntervalRole:
    """What producer and consumer share: per-second counters rolled over into interval records.

    A role sets ``interval_type`` (a class of counters, one instance per interval) and ``totals``
    (the counters summed into the end record), and turns a closed interval into record fields.
    """

    interval_type: type
    total_names: tuple[str, ...]

    def __init__(self, spec: RunnerSpec, writer: RecordWriter):
        self.spec, self.writer = spec, writer
        self.phases = timed_phases(spec.schedule, spec.start_at)
        self.clock = IntervalClock(spec.start_at)
        self.cur = self.interval_type()
        self.totals = dict.fromkeys(self.total_names, 0)
        self.control = ControlReader(Path(spec.control)) if spec.control else None

    def schedule_end_ns(self, now_ns: int) -> int:
        """The end of the last phase, or earlier when the search or drain (always last) announced its end."""
        end = self.phases[-1].end_ns
        if self.control is not None:
            announced = self.control.refresh(now_ns).end_ns
            end = min(end, announced) if announced is not None else end
        return end

    def interval_fields(self, cur: Any, phase: TimedPhase | None, start_ns: int, end_ns: int) -> dict[str, Any]:
        raise NotImplementedError

    def roll_if_due(self, now_ns: int) -> None:
        while self.clock.due(now_ns):
            self.roll(now_ns)

    def roll(self, now_ns: int) -> None:
        start, end = self.clock.advance(now_ns)
        cur, self.cur = self.cur, self.interval_type()
        for name in self.totals:
            self.totals[name] += getattr(cur, name)
        tp = phase_at(self.phases, start)
        if tp is not None and start >= self.schedule_end_ns(now_ns):
            tp = None  # after a search's announced end: the final flush, outside the phases
        self.writer.interval(start, end, tp.phase.name if tp else None, self.interval_fields(cur, tp, start, end))
