"""The per-user cache of what is fetched once and reused by every run: Kafka and JMeter
distributions, plugin jars, agent wheels. ``${XDG_CACHE_HOME:-~/.cache}/orchestrate/<kind>``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orchestrate" / kind
