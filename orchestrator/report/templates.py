"""The Jinja2 environment for report artefacts (HTML, JUnit XML): templates/ of the repository,
StrictUndefined so a missing value is an error rather than an empty string, autoescape always on
because every report template is HTML or XML."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = format_number
    return env


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def format_number(value: float | int | None, digits: int = 3) -> str:
    """Readable numbers for tables: thousands separators, ``digits`` significant figures, '–' for none."""
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"
