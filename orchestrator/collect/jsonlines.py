"""JSON-lines files read one record at a time; undecodable lines are counted, never raised."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from orchestrator.collect.diagnostics import Diagnostics

MALFORMED = "malformed lines skipped"


def json_lines(path: Path, diag: Diagnostics) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each line holding a JSON object; a missing file yields nothing."""
    try:
        stream = path.open("r", encoding="utf-8", errors="replace")
    except OSError as err:
        diag.note(path, f"cannot read: {err.strerror}")
        return
    with stream:
        for line_no, line in enumerate(stream, start=1):
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
