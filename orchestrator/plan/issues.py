"""Pydantic validation errors ▶ one ``FILE:LINE:COL: path: message`` issue per problem.

Pydantic's locations name union members ('producer', 'float', ...) between the keys; walking the
model types alongside the location drops those, leaving the path as it is written in the YAML.
Messages are rewritten to read as one plain sentence: no "Value error," prefixes, no URLs.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from orchestrator.errors import PlanIssue
from orchestrator.plan import fields
from orchestrator.plan.checks import FieldProblems, did_you_mean
from orchestrator.plan.models import NAME_PATTERN, Plan
from orchestrator.plan.yamlsource import Located, PathKey

Path = tuple[PathKey, ...]

_EXPECTED = {
    "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer",
    "int_from_float": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "bool_type": "a boolean (true or false)", "bool_parsing": "a boolean (true or false)", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "list_type": "a list",
    "none_required": "null", "finite_number": "a finite number",
}
_PATTERNS = {
    NAME_PATTERN: "must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "must be the name of an environment variable (letters, digits and '_')",
    r"^\S+:\d{1,5}$": "must be host:port",
}
_PREFIXES = re.compile(r"^(Value error|Assertion failed), ")
_AFTER_VALIDATION = re.compile(r" after validation, not \d+$")
_SHOULD = re.compile(r"^(Input|String|List|Dictionary|Value|Object|Tuple|Set) should (be|have)")


def validation_issues(err: ValidationError, located: Located) -> list[PlanIssue]:
    grouped: dict[Path, list[dict]] = {}
    issues: list[PlanIssue] = []
    for error in err.errors(include_url=False):
        path, tp = _data_path(error["loc"], located.data)
        problems = error.get("ctx", {}).get("error")
        if isinstance(problems, FieldProblems):
            issues.extend(located.issue((*path, *sub), message) for sub, message in problems.problems)
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            issues.append(_tag_issue(error, path, tp, located))
        else:
            grouped.setdefault(path, []).append(error)
    for path, errors in grouped.items():
        at_key = errors[0]["type"] == "extra_forbidden"
        given = located.value(path, missing=errors[0]["input"])  # as written, not as parsed
        issues.append(located.issue(path, _message(errors, given, path, located), at_key=at_key))
    unique = {(i.line, i.column, i.path, i.message): i for i in issues}
    return [unique[k] for k in sorted(unique)]


def _data_path(loc: tuple, data: object) -> tuple[Path, object]:
    """The YAML path of a pydantic location, and the declared type found there."""
    path: list[PathKey] = []
    tp: object | None = Plan
    node = data
    steps = list(loc)
    while steps:
        if tp is not None and len(fields.members(tp)) > 1:
            steps.pop(0)  # pydantic names the union member here; the data already chose it
            chosen = fields.resolve(tp, node)
            tp = None if chosen is tp else chosen
            continue
        key = steps.pop(0)
        path.append(key)
        tp = fields.step(fields.resolve(tp, node), key) if tp is not None else None
        node = fields.child(node, key)
    return tuple(path), tp


def _tag_issue(error: dict, path: Path, tp: object, located: Located) -> PlanIssue:
    key, values = fields.union_tag(tp) or ("kind", [])
    valid = ", ".join(values)
    if error["type"] == "union_tag_not_found" or not isinstance(error["input"], dict) or key not in error["input"]:
        if not isinstance(error["input"], dict):
            return located.issue(path, f"expected a mapping with '{key}' ({valid}), got {_describe(error['input'])}")
        return located.issue((*path, key), f"missing required key; one of: {valid}")
    tag = error["input"][key]
    return located.issue((*path, key), f"unknown {key} {_describe(tag)}{did_you_mean(str(tag), values)} (valid: {valid})")


def _message(errors: list[dict], given: object, path: Path, located: Located) -> str:
    first = errors[0]
    if first["type"] == "missing":
        return "missing required key"
    if first["type"] == "extra_forbidden":
        return _unknown_key(path, located)
    if len(errors) > 1 and all(e["type"] in _EXPECTED or e["type"] == "literal_error" for e in errors):
        wanted = [_EXPECTED.get(e["type"]) or e["ctx"]["expected"] for e in errors]
        return f"expected {_one_of(list(dict.fromkeys(wanted)))}, got {_describe(given)}"
    return _plain(first, given)


def _unknown_key(path: Path, located: Located) -> str:
    key = str(path[-1])
    parent = fields.type_at(path[:-1], located.data)
    valid = fields.model_keys(parent) if fields.is_model(parent) else []
    hint = did_you_mean(key, valid)
    union = fields.type_at(path[:-1], located.data, chosen=False)
    kinds = fields.owners(union, key)
    if kinds and not hint:
        tag = fields.union_tag(union)[0]
        hint = f"; it is a key of {tag} {' or '.join(map(repr, kinds))}"
    elif not hint and valid:
        hint = f"; valid keys: {', '.join(valid)}"
    return f"unknown key {key!r}{hint}"


def _plain(error: dict, given: object) -> str:
    kind, message = error["type"], _AFTER_VALIDATION.sub("", error["msg"])
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_describe(given)}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        return f"expected one of {', '.join(choices)}, got {_describe(given)}{did_you_mean(str(given), choices)}"
    if kind == "string_pattern_mismatch":
        pattern = error["ctx"]["pattern"]
        return f"{_PATTERNS.get(pattern, f'must match {pattern}')}, got {_describe(given)}"
    if kind in ("value_error", "assertion_error"):
        return _PREFIXES.sub("", message)
    message = _SHOULD.sub(lambda m: f"must {m.group(2)}", message)
    if isinstance(given, (str, int, float)) and not isinstance(given, bool):
        message += f", got {_describe(given)}"
    return message[0].lower() + message[1:]


def _one_of(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return str(value)
