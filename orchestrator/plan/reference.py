"""The field reference in docs/plan.md, generated from the plan's JSON Schema so it cannot drift.

``python -m orchestrator.plan.reference docs/plan.md`` rewrites the part of the file between the
``BEGIN``/``END`` markers; tests/plan/test_reference.py fails when the file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from orchestrator.plan.schema import plan_json_schema

BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m orchestrator.plan.reference docs/plan.md) -->"
END = "<!-- END GENERATED REFERENCE -->"


def reference_markdown() -> str:
    schema = plan_json_schema()
    defs = schema["$defs"]
    order = _models_in_order(schema, defs)
    parts = [_section("Plan", "", schema, defs)]
    parts += [_section(name, path, defs[name], defs) for name, path in order]
    return "\n".join(parts)


def _models_in_order(schema: dict, defs: dict) -> list[tuple[str, str]]:
    """Each model once, in the order a reader meets it, with the first path it appears at."""
    seen: dict[str, str] = {}
    queue: list[tuple[dict, str]] = [(schema, "")]
    while queue:
        model, path = queue.pop(0)
        for key, prop in model.get("properties", {}).items():
            child_path = f"{path}.{key}" if path else key
            for ref, suffix in _refs(prop):
                if ref not in seen:
                    seen[ref] = child_path + suffix
                    queue.append((defs[ref], child_path + suffix))
    return list(seen.items())


def _options(prop: dict) -> list[dict]:
    """The alternatives of a union: anyOf/oneOf, or the branches of a union tagged by if/then."""
    return prop.get("anyOf", []) + prop.get("oneOf", []) + [b["then"] for b in prop.get("allOf", []) if "then" in b]


def _refs(prop: dict, suffix: str = "") -> list[tuple[str, str]]:
    if "$ref" in prop:
        return [(prop["$ref"].rsplit("/", 1)[-1], suffix)]
    found = []
    for option in _options(prop):
        found += _refs(option, suffix)
    if "items" in prop:
        found += _refs(prop["items"], suffix + "[]")
    if isinstance(prop.get("additionalProperties"), dict):
        found += _refs(prop["additionalProperties"], suffix + ".*")
    return found


def _section(name: str, path: str, model: dict, defs: dict) -> str:
    title = f"### `{path}` ({name})" if path else "### The plan (top level)"
    lines = [f'<a id="{_anchor(name)}"></a>', "", title, "", model.get("description", "").strip(), "",
             "| Key | Type | Default | Description |", "|---|---|---|---|"]
    required = set(model.get("required", []))
    for key, prop in model.get("properties", {}).items():
        default = "**required**" if key in required else _default(prop)
        full = f"{path}.{key}" if path else key
        lines.append(f"| `{full}` | {_type(prop, defs)} | {default} | {_cell(prop.get('description', ''))} |")
    return "\n".join(lines) + "\n"


def _default(prop: dict) -> str:
    if "default" not in prop:
        return ""
    value = prop["default"]
    if value is None or value in ([], {}):
        return ""
    return f"`{json.dumps(value)}`"


def _type(prop: dict, defs: dict) -> str:
    if "format" in prop and prop["format"] in ("duration", "size", "rate", "fraction"):
        return f"[{prop['format']}](#units)"
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})"
    if "enum" in prop:
        shown = (f"`{v if isinstance(v, str) else json.dumps(v)}`" for v in prop["enum"])
        return " \\| ".join(dict.fromkeys(shown))
    if "const" in prop:
        return f"`{prop['const']}`"
    if options := _options(prop):
        shown = [_type(o, defs) for o in options if o.get("type") != "null"]
        return " or ".join(dict.fromkeys(shown))
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}), defs)}"
    if kind == "object":
        values = prop.get("additionalProperties")
        return f"map of {_type(values, defs)}" if isinstance(values, dict) and values else "map"
    return {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}.get(kind, "any")


def _anchor(name: str) -> str:
    return "ref-" + name.lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def update(path: Path) -> bool:
    """Rewrite the generated part of ``path``; True when it changed."""
    text = path.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    new = f"{text[:start]}\n\n{reference_markdown()}\n{text[end:]}"
    path.write_text(new)
    return new != text


if __name__ == "__main__":
    sys.exit(1 if update(Path(sys.argv[1])) else 0)
