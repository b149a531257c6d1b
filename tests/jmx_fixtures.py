"""The JMeter test plans the tests read. The project's own (tests/fixtures/jmx, written for these
tests, one per Kafka plugin family and plan shape) always run; the public third-party plans in
``../shared/fixtures/jmx`` beside the repository run in addition when that directory exists, and
are skipped with a one-line reason otherwise, so the suite passes in any clone."""

from __future__ import annotations

from pathlib import Path

import pytest

OWN = Path(__file__).resolve().parent / "fixtures" / "jmx"
PUBLIC = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "jmx"
_PUBLIC_MISSING = pytest.mark.skipif(not PUBLIC.is_dir(), reason=f"public JMX fixtures not here: no {PUBLIC}")


def own(name: str, *values: object) -> object:
    """One test case: the own plan ``name`` (and what the test expects of it)."""
    return pytest.param(OWN / name, *values, id=f"own-{Path(name).stem}")


def public(name: str, *values: object) -> object:
    """One test case: the public plan ``name``, skipped when the public fixtures are absent."""
    return pytest.param(PUBLIC / name, *values, id=f"public-{Path(name).stem}", marks=_PUBLIC_MISSING)


def directories(own_value: object, public_value: object) -> list[object]:
    """Both fixture directories as test cases, each with what the test expects of it."""
    return [pytest.param(OWN, own_value, id="own"),
            pytest.param(PUBLIC, public_value, id="public", marks=_PUBLIC_MISSING)]


def every_plan() -> list[object]:
    """Every own plan and every public one (a single skipped case stands for the public ones when absent)."""
    cases = [own(p.name) for p in sorted(OWN.glob("*.jmx"))]
    if not PUBLIC.is_dir():
        return [*cases, pytest.param(PUBLIC, id="public", marks=_PUBLIC_MISSING)]
    return cases + [public(p.name) for p in sorted(PUBLIC.glob("*.jmx"))]
