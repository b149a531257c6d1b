"""Human units in plans: durations ("30s", "2h", "7d", "1h30m"), rates ("5k/s", "max"),
sizes ("1KiB", "64kB", "1.5MB"). Each parser accepts a bare number in the base unit too.

Base units: seconds, messages per second, bytes.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, PlainSerializer

_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d|w)")
_SIZE_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
    "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_COUNT_SUFFIX = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*(?:msg)?\s*(?:/\s*(s|sec|second|m|min|minute|h|hour))?\s*$")
_PER = {None: 1, "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def parse_duration(value: object) -> float:
    """Seconds from "30s", "2h", "1h30m", "250ms" or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '30s', got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().lower()
    if not text:
        raise ValueError("expected a duration such as '30s', got an empty string")
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if text[pos:match.start()].strip():
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a duration such as '30s', '5m', '2h' or '7d', got {value!r}") from None
    return total


def parse_size(value: object) -> int:
    """Bytes from "1KiB", "64kB", "1.5MB", "100" or a number of bytes."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size such as '1KiB', got {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    match = _SIZE.match(str(value))
    unit = match.group(2).lower() if match else None
    if not match or unit not in _SIZE_UNITS:
        raise ValueError(f"expected a size such as '100B', '1KiB' or '2MB', got {value!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


def parse_rate(value: object) -> float | Literal["max"]:
    """Messages per second from "5k/s", "300/min", "max" or a number."""
    if isinstance(value, bool):
        raise ValueError(f"expected a rate such as '5k/s' or 'max', got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if text.lower() == "max":
        return "max"
    match = _RATE.match(text)
    if not match:
        raise ValueError(f"expected a rate such as '500/s', '5k/s' or 'max', got {value!r}")
    number = float(match.group(1)) * _COUNT_SUFFIX[match.group(2).lower()]
    return number / _PER[match.group(3)]


def format_duration(seconds: float) -> str:
    if seconds >= 1 and float(seconds).is_integer():
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f"{int(seconds // size)}{unit}"
        return f"{int(seconds)}s"
    return f"{seconds * 1000:g}ms" if seconds < 1 else f"{seconds:g}s"


Duration = Annotated[float, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]
Size = Annotated[int, BeforeValidator(parse_size)]
Rate = Annotated[float | Literal["max"], BeforeValidator(parse_rate)]
