"""Plan file ▶ validated ``Plan``, or a ``PlanError`` with one FILE:LINE:COL issue per problem.

Relative file paths in the plan (payload_file, script, TLS files, ssh_key, inventory.path, plugin
jars) are resolved against the plan file's directory, so the Plan carries absolute paths and works
from any current directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from orchestrator.errors import PlanError
from orchestrator.plan.issues import validation_issues
from orchestrator.plan.models import PLAN_DIR, Plan
from orchestrator.plan.overrides import apply_overrides
from orchestrator.plan.yamlsource import read_yaml


def load_plan(path: Path, overrides: Sequence[str] = ()) -> Plan:
    path = Path(path)
    located = read_yaml(path)
    apply_overrides(located, overrides)
    try:
        return Plan.model_validate(located.data, context={PLAN_DIR: str(path.resolve().parent)})
    except ValidationError as err:
        raise PlanError(validation_issues(err, located)) from None
