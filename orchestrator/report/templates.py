"""Rendering report artefacts (HTML, JUnit XML) through the project's one Jinja2 environment
(``orchestrator.templating``: StrictUndefined, autoescape for .html.j2 and .xml.j2), with
``num`` for readable numbers in tables."""

from __future__ import annotations

from orchestrator.templating import render_template


def format_number(value: float | int | None, digits: int = 3) -> str:
    """Readable numbers for tables: thousands separators, ``digits`` significant figures, '–' for none."""
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer() and abs(value) >= 1000:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def render(template: str, **context: object) -> str:
    return render_template(template, num=format_number, **context)
