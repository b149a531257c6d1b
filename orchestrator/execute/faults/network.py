"""network_partition and network_degrade: the broker's packets dropped, thinned out, slowed or
throttled, then left alone again; on this machine or on the broker's host over ssh (``hosts.py``).

The broker's packets are picked out by iptables (mangle table, a chain of the fault's own):
- on this machine, where brokers share 127.0.0.1 and differ by port, on lo (jumped to from
  ``OUTPUT -o lo``, which sees both ways): every packet from or to a port its process has open when
  the fault starts, and every packet of a socket it opens later, which the process's cgroup v2 marks
  (the process is moved into a cgroup of the fault's own for the duration);
- on a host of its own, on every interface but lo: every packet from or to a Kafka port of the
  cluster (its own listeners, and its connections to the other brokers), jumped to from ``OUTPUT``
  and, for a partition, ``INPUT``. SSH (Ansible's own connection, which undoes the fault) and the
  host's other traffic are untouched.
A partition drops them all; a degrade drops a share of them (iptables statistic) and/or classifies
them into an HTB class (tc, on lo or the interface of the broker's address) with the bandwidth as
its rate and a netem qdisc below it for the latency. Other traffic on the interface is untouched:
HTB sends unclassified packets directly. Undoing removes the chain and the qdisc (and the cgroup,
moving the process back); installing first removes what a killed run left under the same name.
"""

from __future__ import annotations

import abc
import shlex
from collections.abc import Callable
from pathlib import Path

import psutil

from orchestrator.errors import RunError
from orchestrator.execute.faults.base import Effect, FaultAction
from orchestrator.execute.faults.hosts import FaultHost, HostFacts, fault_host
from orchestrator.plan.faults import ACTIONS, cgroup2_root

QDISC = "1:"
CLASS = "1:10"
MTU_BURST = 2 * 65536  # lo's MTU is 64 KiB: a bucket must hold a few whole packets
DEFAULT_QDISCS = ("noqueue", "mq", "fq_codel", "pfifo_fast", "fq")  # what a degrade may replace
IPTABLES = "iptables -w -t mangle"


def chain_name(fault: str) -> str:
    return f"orch-{fault}"[:28]  # iptables' limit on chain names


def cgroup_name(fault: str) -> str:
    return f"orchestrate-fault-{fault}"


class Selection(abc.ABC):
    """Which of the host's packets are the broker's, and the interface they leave by."""

    device: str

    @abc.abstractmethod
    def hooks(self, inbound: bool) -> list[tuple[str, str]]:
        """Where the chain is jumped to from: each built-in chain with its interface match."""

    @abc.abstractmethod
    def selectors(self) -> list[str]:
        """The matches of the broker's packets, one per rule (each followed by every verdict)."""

    def release(self) -> None:
        """Undoes what ``selectors`` did beyond the rules; idempotent."""


class LoopbackProcess(Selection):
    """The packets of one process on this machine's lo: its ports, and its cgroup's sockets."""

    device = "lo"

    def __init__(self, fault: str, pid: Callable[[], int]):
        root = cgroup2_root()
        if root is None:
            raise RunError(f"fault {fault}: no cgroup v2 hierarchy is mounted")
        self.root, self.pid = root, pid
        self.cgroup = root / cgroup_name(fault)
        self.home = root  # where the process goes back to: its own cgroup once it was moved

    def hooks(self, inbound: bool) -> list[tuple[str, str]]:
        return [("OUTPUT", "-o lo")]

    def selectors(self) -> list[str]:
        self.release()  # what a run killed before it could undo a fault of this name left behind
        pid = self.pid()
        home = self.root / _cgroup_of(pid).lstrip("/")
        self.home = self.root if home == self.cgroup else home
        self.cgroup.mkdir()
        # moved first, listed second: a socket opened in between is already in the cgroup
        (self.cgroup / "cgroup.procs").write_text(str(pid))
        ports = sorted({c.laddr.port for c in psutil.Process(pid).net_connections(kind="tcp") if c.laddr})
        return [f"-m cgroup --path {shlex.quote(str(self.cgroup.relative_to(self.root)))}",
                *(f"-p tcp {way} {port}" for port in ports for way in ("--sport", "--dport"))]

    def release(self) -> None:
        if self.cgroup.exists():
            for pid in (self.cgroup / "cgroup.procs").read_text().split():
                (self.home / "cgroup.procs").write_text(pid)
            self.cgroup.rmdir()


class ClusterPorts(Selection):
    """The packets from or to any Kafka port of the cluster on a broker host's interfaces but lo."""

    def __init__(self, facts: HostFacts):
        self.device, self.ports = facts.device, facts.ports

    def hooks(self, inbound: bool) -> list[tuple[str, str]]:
        return [("OUTPUT", "! -o lo"), *([("INPUT", "! -i lo")] if inbound else [])]

    def selectors(self) -> list[str]:
        return [f"-p tcp {way} {port}" for port in self.ports for way in ("--sport", "--dport")]


def _cgroup_of(pid: int) -> str:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return line[3:]
    return "/"


class NetworkFault(FaultAction):
    """Installs ``verdicts`` on the broker's packets and ``qdisc`` lines; both undone by ``recover``."""

    inbound = True  # on a host of its own, the packets it receives too (from INPUT)
    host: FaultHost
    selection: Selection | None = None

    def prepare(self) -> None:
        handle = self.brokers.find(self.spec.broker)
        self.host = fault_host(self.brokers, handle)
        facts = self.host.check(self.spec.action, ACTIONS[self.spec.action].needs(self.spec, self.host.remote))
        if self.host.remote:
            if not facts.ports:
                raise RunError(f"fault {self.spec.name}: host {handle.host} knows no Kafka port to select")
            self.selection = ClusterPorts(facts)
        else:
            self.selection = LoopbackProcess(self.spec.name, lambda: self.brokers.local_pid(handle))

    @property
    def lead_s(self) -> float:
        return self.host.lead_s

    @property
    def chain(self) -> str:
        return chain_name(self.spec.name)

    def _removal(self) -> list[str]:
        """Idempotent, and safe after a partial install: every line may find nothing to remove."""
        assert self.selection is not None
        lines = [f"{IPTABLES} -D {chain} {match} -j {self.chain} 2>/dev/null || true"
                 for chain, match in self.selection.hooks(True)]
        return lines + [f"if {IPTABLES} -F {self.chain} 2>/dev/null; then {IPTABLES} -X {self.chain}; fi"]

    def _install(self, verdicts: list[str], due: float, extra: list[str]) -> tuple[float, int]:
        """Installs the rules; returns when, and how many selectors they cover."""
        assert self.selection is not None
        selectors = self.selection.selectors()
        lines = [*self._removal(), *extra, f"{IPTABLES} -N {self.chain}"]
        lines += [f"{IPTABLES} -I {chain} 1 {match} -j {self.chain}" for chain, match in self.selection.hooks(self.inbound)]
        lines += [f"{IPTABLES} -A {self.chain} {selector} {verdict}" for selector in selectors for verdict in verdicts]
        return self.host.run(lines, due, "inject"), len(selectors)

    def _uninstall(self, due: float, extra: list[str]) -> float:
        assert self.selection is not None
        ts = self.host.run([*self._removal(), *extra], due, "recover")
        self.selection.release()
        return ts


class NetworkPartition(NetworkFault):
    def inject(self, due: float) -> Effect:
        ts, rules = self._install(["-j DROP"], due, [])
        return Effect(ts, f"every packet dropped: {rules} selectors")

    def recover(self, due: float) -> Effect:
        return Effect(self._uninstall(due, []), "rules removed")


class NetworkDegrade(NetworkFault):
    inbound = False  # CLASSIFY works only on the way out

    def inject(self, due: float) -> Effect:
        spec, verdicts, notes = self.spec, [], []
        if spec.loss is not None:
            verdicts.append(f"-m statistic --mode random --probability {spec.loss:.6f} -j DROP")
            notes.append(f"loss {spec.loss:.2%}")
        shaping = []
        if spec.latency is not None or spec.bandwidth is not None:
            shaping = self._shape()
            verdicts.append(f"-j CLASSIFY --set-class {CLASS}")
            notes += [f"latency {spec.latency * 1000:g} ms"] if spec.latency is not None else []
            notes += [f"bandwidth {spec.bandwidth} B/s"] if spec.bandwidth is not None else []
        ts, rules = self._install(verdicts, due, [*self._unshape(), *shaping])
        return Effect(ts, f"{', '.join(notes)} on {rules} selectors")

    def _shape(self) -> list[str]:
        assert self.selection is not None
        dev = shlex.quote(self.selection.device)
        if not dev or dev == "''":
            raise RunError(f"fault {self.spec.name}: the interface of the broker's address is unknown")
        bandwidth = self.spec.bandwidth
        rate = f"{bandwidth * 8}bit" if bandwidth is not None else "100gbit"
        burst = str(max(MTU_BURST, (bandwidth or 0) // 10))
        current = f"tc qdisc show dev {dev} | head -n 1 | cut -d ' ' -f 1-3"
        lines = [f"tc qdisc show dev {dev} | grep -qE '^qdisc ({'|'.join(DEFAULT_QDISCS)}) 0: root' || "
                 f"{{ echo \"{dev} already has a root qdisc ($({current})), which a degrade would replace\" >&2; exit 1; }}",
                 f"tc qdisc replace dev {dev} root handle {QDISC} htb default 0",
                 f"tc class add dev {dev} parent {QDISC} classid {CLASS} htb rate {rate} ceil {rate} "
                 f"burst {burst} cburst {burst}"]
        if self.spec.latency is not None:
            lines.append(f"tc qdisc add dev {dev} parent {CLASS} handle 10: netem delay {self.spec.latency * 1000:g}ms")
        return lines

    def _unshape(self) -> list[str]:
        """Removes an HTB root of handle 1: (the one a degrade installs; the interface's default comes back)."""
        assert self.selection is not None
        dev = shlex.quote(self.selection.device)
        return [f"if tc qdisc show dev {dev} | grep -q '^qdisc htb {QDISC} root'; then tc qdisc del dev {dev} root; fi"]

    def recover(self, due: float) -> Effect:
        shaped = self.spec.latency is not None or self.spec.bandwidth is not None
        return Effect(self._uninstall(due, self._unshape() if shaped else []), "rules and qdisc removed")
