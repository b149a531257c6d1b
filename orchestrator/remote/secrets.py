"""Client secrets for processes on inventory hosts (native runners, jmeter-servers).

Their values are read from this process's environment and typed in at the playbook's private
prompt: never in a spec, the inventory, extra variables or ansible-runner's artifacts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from orchestrator.cluster import client_security
from orchestrator.errors import EngineError
from orchestrator.plan.models import LocalTarget, Plan

SECRETS_PROMPT = "orchestrate client secrets"  # the vars_prompt of load.yml and jmeter.yml


def read_secrets(names: Iterable[str]) -> dict[str, str]:
    """The values of the client secrets' environment variables, read now from this process."""
    missing = [name for name in names if name not in os.environ]
    if missing:
        raise EngineError(f"environment variable {missing[0]} is not set; the runners on the agents need it "
                          "as a client secret (see target.security)")
    return {name: os.environ[name] for name in names}


def secret_answers(extravars: dict[str, object], secret_var: str,
                   secrets: dict[str, str]) -> tuple[dict[str, object], dict[str, str] | None]:
    """(extravars, prompt answers) for a playbook whose private prompt ``secret_var`` takes the client
    secrets: with secrets, the placeholder extra var goes and the prompt is answered (extra vars are
    recorded by ansible-runner, answers are not); without, the placeholder keeps the prompt quiet."""
    if not secrets:
        return extravars, None
    return {k: v for k, v in extravars.items() if k != secret_var}, {SECRETS_PROMPT: json.dumps(secrets)}


def check_secrets(plan: Plan) -> None:
    """Before anything starts: the client secrets of workloads on agents are all set here."""
    if isinstance(plan.target, LocalTarget) or not any(w.engine == "native" and w.agents for w in plan.workloads):
        return
    read_secrets(client_security(plan.target.security)[1].values())
