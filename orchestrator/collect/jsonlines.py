"""JSON-lines files read one record at a time; undecodable lines are counted, never raised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from orchestrator.collect.diagnostics import Diagnostics

MALFORMED = "malformed lines skipped"


def text_lines(path: Path, diag: Diagnostics) -> Iterator[tuple[int, str]]:
    """(line number, line) of a text file, streamed; a file that cannot be read is a note and yields nothing."""
    try:
        stream = path.open("r", encoding="utf-8", errors="replace")
    except OSError as err:
        diag.note(path, f"cannot read: {err.strerror}")
        return
    with stream:
        yield from enumerate(stream, start=1)


def json_lines(path: Path, diag: Diagnostics) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each line holding a JSON object; a missing file yields nothing."""
    for line_no, line in text_lines(path, diag):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            yield line_no, record
        else:
            diag.count(path, MALFORMED, line_no)
