"""The fault actions a plan may name, what each takes and what it needs on the broker's host.

This table is what the plan language knows about faults: the plan model accepts exactly its names
(``Fault.action``), its parameters say which of a fault's optional fields apply, and its needs are
checked against the host of each faulted broker before anything starts: this machine's when a plan is
validated, provisioned or applied (``host_problems``), a host reached over ssh's on that host when
apply prepares the fault (each need's ``test``, run there by ``playbooks/fault.yml``).
Each action's implementation is the class registered under the same name in
``orchestrator.execute.faults``; a test keeps the two tables equal.
"""

from __future__ import annotations

import gzip
import os
import platform
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.plan.models import Fault, Host, Plan

Problem = tuple[tuple[str | int, ...], str]


@dataclass(frozen=True)
class Need:
    """One thing the broker's host must offer: a tool on PATH, root, or a kernel feature."""

    what: str  # as the error names it: "iptables", "root privileges", "kernel qdisc netem"
    present: Callable[[], bool]  # on this machine
    test: str  # the same question as a POSIX shell condition, for a host reached over ssh (run as root)


def tool(name: str) -> Need:
    return Need(name, lambda: shutil.which(name) is not None, f"command -v {name} >/dev/null")


ROOT = Need("root privileges", lambda: os.geteuid() == 0, '[ "$(id -u)" -eq 0 ]')


def kernel(option: str, module: str, what: str) -> Need:
    """Like ``_kernel_has``: loaded, in the kernel's config, in its module lists, or nothing to ask."""
    modules = "/lib/modules/$(uname -r)"
    test = (f"[ -e /sys/module/{module} ] || "
            f"{{ [ -r /proc/config.gz ] && zcat /proc/config.gz | grep -qE '^{option}=[ym]'; }} || "
            f"{{ [ ! -r /proc/config.gz ] && grep -qsF '/{module}.ko' {modules}/modules.builtin {modules}/modules.dep; }} || "
            f"{{ [ ! -r /proc/config.gz ] && [ ! -e {modules}/modules.dep ] && [ ! -e {modules}/modules.builtin ]; }}")
    return Need(what, lambda: _kernel_has(option, module), test)


@cache
def _kernel_config() -> str | None:
    try:
        return gzip.decompress(Path("/proc/config.gz").read_bytes()).decode("ascii", "replace")
    except OSError:
        return None


def _kernel_has(option: str, module: str) -> bool:
    """Loaded, built in or loadable, from the kernel's config or else its module lists; a kernel that
    says nothing about itself is given the benefit of the doubt."""
    if Path(f"/sys/module/{module}").exists():
        return True
    config = _kernel_config()
    if config is not None:
        return f"\n{option}=y" in config or f"\n{option}=m" in config
    modules = Path("/lib/modules") / platform.release()
    lists = [modules / name for name in ("modules.builtin", "modules.dep") if (modules / name).exists()]
    return not lists or any(f"/{module}.ko" in path.read_text() for path in lists)


NETEM = kernel("CONFIG_NET_SCH_NETEM", "sch_netem", "kernel qdisc netem (sch_netem)")
HTB = kernel("CONFIG_NET_SCH_HTB", "sch_htb", "kernel qdisc htb (sch_htb)")
CLASSIFY = kernel("CONFIG_NETFILTER_XT_TARGET_CLASSIFY", "xt_CLASSIFY", "iptables CLASSIFY target (xt_CLASSIFY)")
CGROUP_MATCH = kernel("CONFIG_NETFILTER_XT_MATCH_CGROUP", "xt_cgroup", "iptables cgroup match (xt_cgroup)")
STATISTIC_MATCH = kernel("CONFIG_NETFILTER_XT_MATCH_STATISTIC", "xt_statistic",
                         "iptables statistic match (xt_statistic)")
CGROUP2 = Need("a cgroup v2 hierarchy", lambda: cgroup2_root() is not None, "grep -qs ' cgroup2 ' /proc/self/mounts")


def cgroup2_root() -> Path | None:
    """Where cgroup v2 is mounted (alone, or as the 'unified' part of a hybrid hierarchy)."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


@dataclass(frozen=True)
class ActionSpec:
    summary: str  # one line for the docs and the schema
    params: tuple[str, ...] = ()  # the Fault fields beyond name/at/duration/broker it reads
    whole_cluster: bool = False  # acts on every broker; 'broker' is not read
    # what the host needs, given the fault and whether the host is reached over ssh
    needs: Callable[[Fault, bool], tuple[Need, ...]] = lambda fault, remote: ()


def _select_needs(fault: Fault, remote: bool) -> tuple[Need, ...]:
    """The broker's packets are picked out by iptables: on this machine its ports and a cgroup for the
    sockets it opens later; on a host of its own the cluster's Kafka ports."""
    return (ROOT, tool("iptables")) if remote else (ROOT, tool("iptables"), CGROUP_MATCH, CGROUP2)


def _degrade_needs(fault: Fault, remote: bool) -> tuple[Need, ...]:
    out = list(_select_needs(fault, remote))
    if fault.latency is not None or fault.bandwidth is not None:
        out += [tool("tc"), HTB, CLASSIFY]
    if fault.latency is not None:
        out.append(NETEM)
    if fault.loss is not None:
        out.append(STATISTIC_MATCH)
    return tuple(out)


ACTIONS: dict[str, ActionSpec] = {
    "broker_stop": ActionSpec("SIGTERM, restart after duration"),
    "broker_kill": ActionSpec("SIGKILL, restart after duration"),
    "broker_pause": ActionSpec("SIGSTOP, SIGCONT after duration"),
    "disk_full": ActionSpec("a file fills the broker's log-dir file system to fill_to (default: every free byte); "
                             "removed after duration, and the broker restarted if it stopped",
                             params=("fill_to",)),
    "rolling_restart": ActionSpec("every broker in turn: SIGTERM, restart, wait until it is back in every ISR; "
                                   "ends when the last one is (duration bounds it)", whole_cluster=True),
    "decommission": ActionSpec("moves the broker's replicas to the others by partition reassignment; ends when "
                                "the reassignment completes, the original assignment is restored after duration"),
    "network_partition": ActionSpec("drops every packet to and from the broker (iptables on lo, or on its host's "
                                     "interfaces) for duration", needs=_select_needs),
    "network_degrade": ActionSpec("latency (tc netem), loss (iptables statistic) and/or bandwidth (tc htb) on the "
                                   "broker's packets (on lo, or those its host sends) for duration",
                                   params=("latency", "loss", "bandwidth"), needs=_degrade_needs),
}

PARAMS = sorted({p for a in ACTIONS.values() for p in a.params})


def param_problems(fault: Fault) -> Iterator[Problem]:
    """Parameters given to an action that does not read them, and a degrade that degrades nothing."""
    action = ACTIONS[fault.action]
    for name in PARAMS:
        if getattr(fault, name) is not None and name not in action.params:
            takes = ", ".join(a for a, d in ACTIONS.items() if name in d.params)
            yield (name,), f"'{name}' applies only to {takes}, not to {fault.action}"
    if fault.action == "network_degrade" and all(getattr(fault, p) is None for p in action.params):
        yield (), "network_degrade needs at least one of latency, loss or bandwidth"


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
    """Faults this machine cannot perform for the brokers on it, each at the fault's ``action``."""
    problems: list[Problem] = []
    for i, fault in enumerate(plan.faults):
        action = ACTIONS[fault.action]
        for host in _fault_hosts(plan, fault):
            name = "this machine" if host is None else f"host {host.name}"
            if host is not None and host.connection != "local":
                continue  # known only by asking the host: apply does before the run (execute/faults/hosts.py)
            missing = [need.what for need in action.needs(fault, False) if not present(need)]
            if missing:
                problems.append((("faults", i, "action"), f"{name} lacks what {fault.action} needs: {', '.join(missing)}"))
                break  # every local host is this machine: once is enough
    return problems
