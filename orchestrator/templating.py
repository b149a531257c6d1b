"""The Jinja2 environment for every rendered text artefact: StrictUndefined, XML escaping for
.jmx/.xml templates, and templates/ as the only source of text."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    undefined=jinja2.StrictUndefined,
    autoescape=jinja2.select_autoescape(enabled_extensions=("jmx.j2", "xml.j2", "html.j2"), default=False),
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
# JSON is valid YAML: ``| json`` quotes any scalar or mapping safely in YAML templates, unlike
# Jinja's ``tojson``, which also escapes <>&' for HTML
_env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)


def render_template(name: str, **context: object) -> str:
    return _env.get_template(name).render(**context)
