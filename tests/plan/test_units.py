"""Human units: durations, sizes and rates, and the limits their plan types enforce."""

from __future__ import annotations

import math

import pytest
from pydantic import TypeAdapter, ValidationError

from orchestrator.plan.units import (
    MAX_RATE,
    Duration,
    Rate,
    Size,
    format_duration,
    parse_duration,
    parse_rate,
    parse_size,
)


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("2h", 7200), ("7d", 604800), ("1h30m", 5400), ("250ms", 0.25), ("5min", 300),
    ("1w", 604800), ("1.5s", 1.5), (" 10 s ", 10), ("42", 42), (12, 12), (0.5, 0.5), ("2m30s", 150),
])
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10 parsecs", "s", "5x", "1h and 5m", True])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


@pytest.mark.parametrize(("text", "size"), [
    ("1KiB", 1024), ("64kB", 64000), ("1.5MB", 1_500_000), ("100", 100), ("100B", 100), ("2GiB", 2 * 1024**3),
    ("1k", 1024), ("1m", 1024**2), (512, 512), ("1 TiB", 1024**4),
])
def test_parse_size(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["1 KB please", "KiB", "1XB", "-1KiB", False, math.inf])
def test_parse_size_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="expected a size"):
        parse_size(text)


@pytest.mark.parametrize(("text", "rate"), [
    ("5k/s", 5000), ("300/min", 5), ("max", "max"), ("MAX", "max"), ("1000", 1000), ("2.5k", 2500),
    ("1M/s", 1_000_000), ("3600/h", 1), ("100 msg/s", 100), (50, 50),
])
def test_parse_rate(text: object, rate: object) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "5k/x", "/s", "-5/s", True])
def test_parse_rate_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="expected a rate"):
        parse_rate(text)


@pytest.mark.parametrize(("seconds", "text"), [
    (30, "30s"), (90, "90s"), (120, "2m"), (7200, "2h"), (86400, "1d"), (0.005, "5ms"), (1.5, "1.5s"), (0, "0ms"),
])
def test_format_duration_round_trips(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [-1, math.inf, math.nan])
def test_duration_type_rejects_negative_and_non_finite(value: float) -> None:
    with pytest.raises(ValidationError, match="finite, non-negative"):
        TypeAdapter(Duration).validate_python(value)


def test_size_type_rejects_negative() -> None:
    with pytest.raises(ValidationError, match="finite, non-negative"):
        TypeAdapter(Size).validate_python(-1)


@pytest.mark.parametrize("value", [0, -5, "0/s", math.nan])
def test_rate_type_must_be_positive(value: object) -> None:
    with pytest.raises(ValidationError, match="must be positive"):
        TypeAdapter(Rate).validate_python(value)


def test_rate_type_has_a_sane_maximum() -> None:
    with pytest.raises(ValidationError, match="above the sane maximum"):
        TypeAdapter(Rate).validate_python(MAX_RATE * 2)


def test_duration_type_serialises_with_units() -> None:
    adapter = TypeAdapter(Duration)
    assert adapter.dump_python(adapter.validate_python("1h30m")) == "90m"
