"""iostat output ▶ per-device disk samples.

Reads sysstat's JSON (``iostat -dxk -y -t -o JSON``, also when cut short by a kill) and the plain
text of sysstat 9/10, 11/12.0 and 12.3+ in any locale (decimal commas, 12-hour or ISO times). Column
positions differ between versions, so every row is read through the header that precedes it.
Naive timestamps (no zone) are taken in the collector's local time zone, like iostat printed them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from orchestrator.collect.diagnostics import Diagnostics

_TIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S",
)
_TIMESTAMP = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}[T ]\d{1,2}:\d{2}:\d{2}")
_JSON_DATE = re.compile(r'"date"\s*:\s*"([^"]*)"')
_MAX_ENTRY = 1 << 20  # a "statistics" entry larger than this is corrupt, not incomplete


@dataclass(frozen=True)
class DiskSample:
    ts: int  # epoch second at the end of the interval
    device: str
    r_per_s: float | None
    w_per_s: float | None
    rkb_per_s: float | None
    wkb_per_s: float | None
    await_ms: float | None  # "await", or r_await/w_await weighted by r/s and w/s
    aqu_sz: float | None
    util: float | None


def parse_time(text: str) -> int | None:
    text = text.strip()
    for fmt in _TIME_FORMATS:
        try:
            return int(datetime.strptime(text, fmt).timestamp())
        except ValueError:
            continue
    return None


def _first(fields: dict[str, float], *names: str) -> float | None:
    return next((fields[n] for n in names if n in fields), None)


def _sample(ts: int, device: str, fields: dict[str, float]) -> DiskSample:
    reads, writes = fields.get("r/s"), fields.get("w/s")
    waited = _first(fields, "await")
    if waited is None and "r_await" in fields and "w_await" in fields:
        total = (reads or 0.0) + (writes or 0.0)
        waited = ((fields["r_await"] * (reads or 0.0) + fields["w_await"] * (writes or 0.0)) / total) if total else 0.0
    mb_to_kb = {k: v * 1024 for k, v in (("rkB/s", fields.get("rMB/s")), ("wkB/s", fields.get("wMB/s"))) if v is not None}
    return DiskSample(
        ts=ts, device=device, r_per_s=reads, w_per_s=writes,
        rkb_per_s=_first({**mb_to_kb, **fields}, "rkB/s"), wkb_per_s=_first({**mb_to_kb, **fields}, "wkB/s"),
        await_ms=waited, aqu_sz=_first(fields, "aqu-sz", "avgqu-sz"), util=_first(fields, "util", "%util"),
    )


def read_iostat(path: Path, diag: Diagnostics) -> Iterator[DiskSample]:
    """Samples from one iostat file, JSON or text (told apart by the first character)."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as stream:
            head = stream.read(1)
            stream.seek(0)
            reader = _read_json if head == "{" else _read_text
            yield from reader(path, stream, diag)
    except OSError as err:
        diag.note(path, f"cannot read: {err.strerror}")


# --------------------------------------------------------------------------- JSON


def _read_json(path: Path, stream, diag: Diagnostics) -> Iterator[DiskSample]:
    """Decode the "statistics" entries one at a time; a file cut short keeps its complete entries."""
    decoder = json.JSONDecoder()
    buffer, line, found, day = "", 1, False, ""
    for chunk in iter(lambda: stream.read(1 << 16), ""):
        buffer += chunk
        if not found:
            marker = buffer.find('"statistics"')
            bracket = buffer.find("[", marker) if marker >= 0 else -1
            if bracket < 0:
                continue
            line += buffer.count("\n", 0, bracket + 1)
            date = _JSON_DATE.search(buffer, 0, marker)
            day = date.group(1) if date else ""
            buffer, found = buffer[bracket + 1:], True
        while True:
            stripped = buffer.lstrip(" \t\r\n,")
            line += buffer.count("\n", 0, len(buffer) - len(stripped))
            buffer = stripped
            if not buffer or buffer[0] == "]":
                break
            try:
                entry, end = decoder.raw_decode(buffer)
            except json.JSONDecodeError:
                if len(buffer) > _MAX_ENTRY:
                    diag.note(path, "corrupt iostat JSON entry; the rest of the file is skipped", line)
                    return
                break
            yield from _json_entry(path, entry, day, line, diag)
            line += buffer.count("\n", 0, end)
            buffer = buffer[end:]
    if not found:
        diag.note(path, "unknown iostat format: no \"statistics\" array in the JSON")
    elif buffer.strip() and buffer.lstrip()[0] != "]":
        diag.count(path, "incomplete iostat JSON entry at the end skipped (iostat was stopped mid-write)", line)


def _json_entry(path: Path, entry: object, day: str, line: int, diag: Diagnostics) -> Iterator[DiskSample]:
    """One "statistics" entry; without S_TIME_FORMAT=ISO its timestamp is a bare time of the host's "date"."""
    stamp = entry.get("timestamp") if isinstance(entry, dict) else None
    ts = (parse_time(stamp) or parse_time(f"{day} {stamp}")) if isinstance(stamp, str) else None
    if ts is None or not isinstance(entry.get("disk"), list):
        diag.count(path, "iostat JSON entries without a usable timestamp or disk list skipped", line)
        return
    for disk in entry["disk"]:
        if isinstance(disk, dict) and isinstance(disk.get("disk_device"), str):
            numbers = {k: float(v) for k, v in disk.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
            yield _sample(ts, disk["disk_device"], numbers)


# --------------------------------------------------------------------------- text


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _read_text(path: Path, stream, diag: Diagnostics) -> Iterator[DiskSample]:
    header: list[str] | None = None
    ts: int | None = None
    seen_header = False
    for line_no, raw in enumerate(stream, start=1):
        line = raw.strip()
        if not line:
            header = None
            continue
        if line.startswith("Device"):
            header, seen_header = [c.rstrip(":") for c in line.split()], True
            if ts is None:
                diag.count(path, "iostat blocks without a timestamp skipped (run iostat with -t)", line_no)
            continue
        if _TIMESTAMP.match(line):
            parsed = parse_time(line)
            if parsed is None:
                diag.count(path, "unreadable iostat timestamps", line_no)
            ts = parsed
            continue
        if header is None:
            if not line.startswith("Linux"):
                diag.count(path, "unrecognised iostat lines skipped", line_no)
            continue
        if ts is None:
            continue
        fields = line.split()
        try:
            values = [_number(v) for v in fields[1:]]
        except ValueError:
            values = []
        if len(fields) != len(header) or len(values) != len(header) - 1:
            diag.count(path, "malformed iostat rows skipped", line_no)
            continue
        yield _sample(ts, fields[0], dict(zip(header[1:], values)))
    if not seen_header:
        diag.note(path, "unknown iostat format: no 'Device' header line found")
