"""Warnings about bad input, counted per file and kind: one line each, naming file and first line.

Parsers never raise on bad input; they report here and go on, so the report is still written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class _Tally:
    count: int = 0
    first_line: int | None = None


@dataclass
class Diagnostics:
    root: Path  # paths in messages are shown relative to the run directory
    _tallies: dict[tuple[str, str], _Tally] = field(default_factory=dict)
    _notes: list[str] = field(default_factory=list)

    def _name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def count(self, path: Path, what: str, line: int | None = None, n: int = 1) -> None:
        """Count ``n`` occurrences of ``what`` (e.g. "malformed lines skipped") in ``path``."""
        tally = self._tallies.setdefault((self._name(path), what), _Tally())
        tally.count += n
        if tally.first_line is None and line is not None:
            tally.first_line = line

    def note(self, path: Path, message: str, line: int | None = None) -> None:
        where = self._name(path) if line is None else f"{self._name(path)}:{line}"
        self._notes.append(f"{where}: {message}")

    def lines(self) -> list[str]:
        out = list(self._notes)
        for (name, what), tally in self._tallies.items():
            first = f" (first at line {tally.first_line})" if tally.first_line is not None else ""
            out.append(f"{name}: {tally.count} {what}{first}")
        return out


class ClockWatch:
    """Streams one source's timestamps and warns about clock gaps and backward jumps."""

    def __init__(self, diag: Diagnostics, path: Path, step: float):
        self.diag, self.path, self.step = diag, path, step
        self.last: int | None = None

    def see(self, ts: int, line: int | None = None) -> None:
        last, self.last = self.last, ts if self.last is None else max(self.last, ts)
        if last is None:
            return
        if ts - last > max(3 * self.step, self.step + 2):
            self.diag.note(self.path, f"clock gap of {ts - last} s (no samples between epoch {last} and {ts})", line)
        elif ts < last - self.step:
            self.diag.note(self.path, f"clock went back {last - ts} s (epoch {last} to {ts})", line)
