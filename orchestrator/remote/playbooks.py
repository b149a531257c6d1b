"""The plan's host playbooks run through ansible-runner, with the per-plan state they share.

Per-plan state (the hosts' data when they are this machine, ssh known_hosts, ansible-runner
artifacts of provision/destroy) lives in ``${XDG_STATE_HOME:-~/.local/state}/orchestrate/<plan>``,
so ``destroy`` finds what an earlier ``provision`` or ``apply`` started.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import PlanError, PlanIssue
from orchestrator.plan.models import Plan, Provision
from orchestrator.remote.ansible import EventSink, PlaybookJob, PlaybookResult, run_playbook
from orchestrator.remote.inventory import Layout, LayoutError, ansible_inventory, host_command, layout


def state_dir(plan: Plan) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "orchestrate" / plan.metadata.name


@dataclass(frozen=True)
class HostPlaybooks:
    """Runs the plan's playbooks on its inventory hosts (provisioning, load, monitors, faults): one per
    apply, shared by every component that reaches a host; inventory, layout and where ansible-runner
    keeps its artifacts."""

    plan: Plan
    plan_path: Path
    private_data_dir: Path
    on_event: EventSink | None = None

    @property
    def state(self) -> Path:
        return state_dir(self.plan)

    @property
    def settings(self) -> Provision:
        return self.plan.provision or Provision()

    def layout(self) -> Layout:
        try:
            return layout(self.plan, self.state)
        except LayoutError as err:
            raise PlanError([PlanIssue(str(self.plan_path), 1, 1, "inventory", str(err))]) from None

    def _inventory(self) -> dict[str, object]:
        self.layout()
        self.state.mkdir(parents=True, exist_ok=True)
        return ansible_inventory(self.plan, self.plan_path.parent.resolve(), self.state)

    def command_on(self, host_name: str, argv: list[str]) -> list[str]:
        """The command line that runs ``argv`` on inventory host ``host_name`` (see host_command)."""
        host = next(h for h in (self.plan.inventory.hosts if self.plan.inventory else []) if h.name == host_name)
        return host_command(host, self.plan_path.parent.resolve(), self.state, argv)

    def run(self, playbook: str, ident: str, extravars: dict[str, object] | None = None,
            tolerate_failures: bool = False) -> PlaybookResult:
        return run_playbook(playbook, self.private_data_dir, self._inventory(), extravars or {}, ident,
                            self.on_event, tolerate_failures)

    def start(self, playbook: str, ident: str, extravars: dict[str, object],
              answers: dict[str, str] | None = None) -> PlaybookJob:
        """``run`` in the background; ``answers`` reply to the playbook's prompts (see run_playbook)."""
        return PlaybookJob(playbook, self.private_data_dir, self._inventory(), extravars, ident, self.on_event,
                           answers=answers)
