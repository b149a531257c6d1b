"""The fault actions a plan may name, what each takes and what it needs on the broker's host.

This table is what the plan language knows about faults: the plan model accepts exactly its names
(``Fault.action``), its parameters say which of a fault's optional fields apply, and its needs are
checked against the host of each faulted broker when a plan is validated, provisioned or applied
(``host_problems``), so a fault this machine cannot perform is refused before anything starts.
Each action's implementation is the class registered under the same name in
``orchestrator.execute.faults``; a test keeps the two tables equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.plan.models import Fault, Host, Plan

Problem = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class Need:
    """One thing the broker's host must offer: a tool on PATH, root, or a kernel feature."""

    what: str  # as the error names it: "iptables", "root privileges", "kernel qdisc netem"
    present: Callable[[], bool]


@dataclass(frozen=True)
class ActionSpec:
    summary: str  # one line for the docs and the schema
    params: tuple[str, ...] = ()  # the Fault fields beyond name/at/duration/broker it reads
    whole_cluster: bool = False  # acts on every broker; 'broker' is not read
    this_machine: bool = False  # only for brokers whose process runs on this machine
    needs: Callable[[Fault], tuple[Need, ...]] = lambda fault: ()


ACTIONS: dict[str, ActionSpec] = {
    "broker_stop": ActionSpec("SIGTERM, restart after duration"),
    "broker_kill": ActionSpec("SIGKILL, restart after duration"),
    "broker_pause": ActionSpec("SIGSTOP, SIGCONT after duration"),
    "disk_full": ActionSpec("a file fills the broker's log-dir file system to fill_to (default: every free byte); "
                             "removed after duration, and the broker restarted if it stopped",
                             params=("fill_to",), this_machine=True),
    "rolling_restart": ActionSpec("every broker in turn: SIGTERM, restart, wait until it is back in every ISR; "
                                   "ends when the last one is (duration bounds it)", whole_cluster=True),
    "decommission": ActionSpec("moves the broker's replicas to the others by partition reassignment; ends when "
                                "the reassignment completes, the original assignment is restored after duration"),
}

PARAMS = sorted({p for a in ACTIONS.values() for p in a.params})


def param_problems(fault: Fault) -> Iterator[Problem]:
    """Parameters given to an action that does not read them."""
    action = ACTIONS[fault.action]
    for name in PARAMS:
        if getattr(fault, name) is not None and name not in action.params:
            takes = ", ".join(a for a, d in ACTIONS.items() if name in d.params)
            yield (name,), f"'{name}' applies only to {takes}, not to {fault.action}"


# --------------------------------------------------------------------------- hosts


def _fault_hosts(plan: Plan, fault: Fault) -> list[Host | None]:
    """The hosts of the brokers ``fault`` acts on; None stands for this machine (the local target)."""
    if plan.target.kind == "local":
        return [None]
    hosts = plan.inventory.hosts if plan.inventory is not None else []
    brokers = [h for h in hosts if "broker" in h.roles]
    if ACTIONS[fault.action].whole_cluster:
        return list(brokers)
    kafka = [h for h in hosts if "broker" in h.roles or "controller" in h.roles]
    for index, host in enumerate(kafka, start=1):
        node_id = host.node_id if host.node_id is not None else index
        if fault.broker in (host.name, node_id):
            return [host]
    return []  # the plan checks name a host that is not a broker; an unknown node id fails at prepare


def present(need: Need) -> bool:
    return need.present()


def host_problems(plan: Plan) -> list[Problem]:
    """Faults the hosts of their brokers cannot perform, each at the fault's ``action``: a broker on
    another host for an action that works only here, or what this machine lacks."""
    problems: list[Problem] = []
    for i, fault in enumerate(plan.faults):
        action = ACTIONS[fault.action]
        for host in _fault_hosts(plan, fault):
            name = "this machine" if host is None else f"host {host.name}"
            if host is not None and host.connection != "local" and action.this_machine:
                problems.append((("faults", i, "action"), f"{name} is reached over ssh, but {fault.action} acts only on "
                                 "brokers on this machine (connection: local)"))
                continue
            if host is not None and host.connection != "local":
                continue  # what a remote host offers is the kafka role's business
            missing = [need.what for need in action.needs(fault) if not present(need)]
            if missing:
                problems.append((("faults", i, "action"), f"{name} lacks what {fault.action} needs: {', '.join(missing)}"))
                break  # every local host is this machine: once is enough
    return problems
