"""Plan file ▶ validated ``Plan``, or a ``PlanError`` with one FILE:LINE:COL issue per problem.

After the models, each SLO threshold written with a unit ('20ms', '5k/s') is checked against its
metric's unit with the same conversion the report uses, so a mismatch is caught before a run.

Relative file paths in the plan (payload_file, script, TLS files, ssh_key, inventory.path, plugin
jars) are resolved against the plan file's directory, so the Plan carries absolute paths and works
from any current directory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from orchestrator.errors import InputError, PlanError, PlanIssue
from orchestrator.plan.ansible_inventory import read_inventory
from orchestrator.plan.faults import host_problems
from orchestrator.plan.issues import validation_issues
from orchestrator.plan.models import PLAN_DIR, Plan
from orchestrator.plan.overrides import apply_overrides
from orchestrator.plan.yamlsource import Located, read_yaml
from orchestrator.plan.metrics import parse_threshold, spec


def load_plan(path: Path, overrides: Sequence[str] = (), check_hosts: bool = False) -> Plan:
    """``check_hosts``: also refuse faults that the hosts of their brokers cannot perform (what
    validate, provision and apply do; describing or rendering a plan works anywhere)."""
    path = Path(path)
    located = read_yaml(path)
    apply_overrides(located, overrides)
    plan_dir = path.resolve().parent
    _read_inventory_file(located, plan_dir)
    try:
        plan = Plan.model_validate(located.data, context={PLAN_DIR: str(plan_dir)})
    except ValidationError as err:
        raise PlanError(validation_issues(err, located)) from None
    issues = _threshold_issues(plan, located)
    if check_hosts:
        issues += [located.issue(at, message) for at, message in host_problems(plan)]
    if issues:
        raise PlanError(issues)
    return plan


def _read_inventory_file(located: Located, plan_dir: Path) -> None:
    at = ("inventory", "path")
    source = located.value(at)
    if not isinstance(source, str):
        return  # no inventory file, or a wrong type the model reports
    if located.value(("inventory", "hosts")) is not None:
        raise PlanError([located.issue(at, "give either 'hosts' or 'path', not both")])
    file = Path(os.path.normpath(plan_dir / os.path.expanduser(source)))
    if not file.exists():
        return  # the model reports the missing file
    try:
        hosts = read_inventory(file)
    except InputError as err:
        raise PlanError([located.issue(at, str(err))]) from None
    located.data["inventory"]["hosts"] = hosts  # type: ignore[index]
    if at in located.spots:
        located.spots[("inventory", "hosts")] = located.spots[at]


def _threshold_issues(plan: Plan, located: Located) -> list[PlanIssue]:
    issues = []
    for i, slo in enumerate(plan.slos):
        where = f"slo {slo.name!r}"
        try:
            parse_threshold(slo.threshold, spec(slo.metric).unit, where)
        except InputError as err:
            issues.append(located.issue(("slos", i, "threshold"), str(err).removeprefix(f"{where}: ")))
    return issues
