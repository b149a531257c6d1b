"""Human units in plans: durations ("30s", "2h", "7d", "1h30m"), rates ("5k/s", "max"),
sizes ("1KiB", "64kB", "1.5MB"), fractions ("5%"). Each parser accepts a bare number in the base
unit too.

Base units: seconds, messages per second, bytes, fractions of 1. Every value must be finite and non-negative;
rates must also be positive and at most ``MAX_RATE`` (or "max").
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

MAX_DURATION_S = 30 * 86400
MAX_RATE = 50_000_000.0

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
        if not math.isfinite(value):
            raise ValueError(f"expected a size such as '1KiB', got {value!r}")
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


_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def parse_fraction(value: object) -> float:
    """A fraction of 1 from "5%" or a number (0.05)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a fraction such as '5%' or 0.05, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    match = _PERCENT.match(str(value))
    if not match:
        raise ValueError(f"expected a fraction such as '5%' or 0.05, got {value!r}")
    return float(match.group(1)) / 100.0


def _check_fraction(value: float) -> float:
    if not math.isfinite(value) or not 0.0 < value < 1.0:
        raise ValueError(f"a fraction must be above 0 and below 1 (100%), got {value:g}")
    return value


def _finite_non_negative(value: float, what: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite, non-negative value, got {value:g}")
    return value


def _check_duration(value: float) -> float:
    return _finite_non_negative(value, "a duration")


def _check_size(value: int) -> int:
    return int(_finite_non_negative(value, "a size"))


def _check_rate(value: float | Literal["max"]) -> float | Literal["max"]:
    if value == "max":
        return value
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"a rate must be positive, got {value:g}")
    if value > MAX_RATE:
        raise ValueError(f"a rate of {value:g} msg/s is above the sane maximum of {MAX_RATE:g} msg/s")
    return value


def format_duration(seconds: float) -> str:
    if seconds >= 1 and float(seconds).is_integer():
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return f"{int(seconds // size)}{unit}"
        return f"{int(seconds)}s"
    return f"{seconds * 1000:g}ms" if seconds < 1 else f"{seconds:g}s"


_DURATION_SCHEMA = {
    "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|min|s|m|h|d|w)?(\s*\d+(\.\d+)?\s*(ms|min|s|m|h|d|w))*\s*$"}],
    "format": "duration",
    "description": "A duration: seconds as a number, or '250ms', '30s', '5m', '2h', '7d', '1h30m'",
}
_SIZE_SCHEMA = {
    "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([kKmMgGtT]i?[bB]?|[bB])?\s*$"}],
    "format": "size",
    "description": "A size: bytes as a number, or '100B', '1KiB', '64kB', '1.5MB', '2GiB'",
}
_RATE_SCHEMA = {
    "anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RATE}, {"type": "string", "pattern": r"^(max|\s*\d+(\.\d+)?\s*[kKmMgG]?\s*(msg)?\s*(/\s*(s|sec|second|m|min|minute|h|hour))?\s*)$"}],
    "format": "rate",
    "description": "Messages per second as a number, or '500/s', '5k/s', '300/min', or 'max' (as fast as possible)",
}

_FRACTION_SCHEMA = {
    "anyOf": [{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
              {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"}],
    "format": "fraction",
    "description": "A fraction: a number between 0 and 1, or a percentage such as '5%'",
}

Fraction = Annotated[
    float, BeforeValidator(parse_fraction), AfterValidator(_check_fraction),
    PlainSerializer(lambda v: f"{v * 100:g}%", return_type=str), WithJsonSchema(_FRACTION_SCHEMA),
]
Duration = Annotated[
    float, BeforeValidator(parse_duration), AfterValidator(_check_duration),
    PlainSerializer(format_duration, return_type=str), WithJsonSchema(_DURATION_SCHEMA),
]
Size = Annotated[int, BeforeValidator(parse_size), AfterValidator(_check_size), WithJsonSchema(_SIZE_SCHEMA)]
Rate = Annotated[
    float | Literal["max"], BeforeValidator(parse_rate), AfterValidator(_check_rate), WithJsonSchema(_RATE_SCHEMA),
]
