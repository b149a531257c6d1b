"""network_partition and network_degrade: the broker's packets on the loopback interface dropped,
thinned out, slowed or throttled, then left alone again.

Brokers on this machine share 127.0.0.1 and differ by port, so the broker's packets are picked out
by iptables (mangle table, a chain of the fault's own jumped to from OUTPUT on lo): every packet from
or to a port its process has open when the fault starts (its listeners and its connections, both
ways), and every packet of a socket it opens later, which the process's cgroup v2 marks (the process
is moved into a cgroup of the fault's own for the duration). A partition drops them all; a degrade
drops a share of them (iptables statistic) and/or classifies them into an HTB class on lo (tc) with
the bandwidth as its rate and a netem qdisc below it for the latency. Undoing removes the chain, the
qdisc and the cgroup, and moves the process back where it was. Other traffic on lo is untouched:
HTB sends unclassified packets directly.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psutil

from orchestrator.errors import RunError
from orchestrator.execute.faults.base import Effect, FaultAction
from orchestrator.plan.faults import cgroup2_root

DEVICE = "lo"
QDISC = "1:"
CLASS = "1:10"
MTU_BURST = 2 * 65536  # lo's MTU is 64 KiB: a bucket must hold a few whole packets
COMMAND_TIMEOUT_S = 30.0


def chain_name(fault: str) -> str:
    return f"orch-{fault}"[:28]  # iptables' limit on chain names


def cgroup_name(fault: str) -> str:
    return f"orchestrate-fault-{fault}"


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    if check and done.returncode != 0:
        lines = (done.stderr + done.stdout).strip().splitlines() or [f"exit status {done.returncode}"]
        raise RunError(f"{' '.join(args)}: {lines[-1]}")
    return done


class BrokerPackets:
    """The selection of one broker process's packets on lo: an iptables chain in which each selector
    (the cgroup, each port each way) is followed by every rule of ``verdicts`` in turn."""

    def __init__(self, fault: str, pid: int):
        root = cgroup2_root()
        if root is None:
            raise RunError(f"fault {fault}: no cgroup v2 hierarchy is mounted")
        self.pid, self.root = pid, root
        self.chain = chain_name(fault)
        self.cgroup = root / cgroup_name(fault)
        home = root / _cgroup_of(pid).lstrip("/")
        self.home = root if home == self.cgroup else home  # where the process goes back to

    def apply(self, verdicts: list[list[str]]) -> int:
        """Installs the rules; returns how many ports of the process they cover."""
        self.remove()  # what a run killed before it could undo a fault of this name left behind
        _iptables("-N", self.chain)
        _iptables("-I", "OUTPUT", "1", "-o", DEVICE, "-j", self.chain)
        self.cgroup.mkdir(exist_ok=True)
        selectors = [["-m", "cgroup", "--path", str(self.cgroup.relative_to(self.root))]]
        # moved first, listed second: a socket opened in between is already in the cgroup
        (self.cgroup / "cgroup.procs").write_text(str(self.pid))
        ports = sorted({c.laddr.port for c in psutil.Process(self.pid).net_connections(kind="tcp") if c.laddr})
        selectors += [["-p", "tcp", way, str(port)] for port in ports for way in ("--sport", "--dport")]
        for selector in selectors:
            for verdict in verdicts:
                _iptables("-A", self.chain, *selector, *verdict)
        return len(ports)

    def remove(self) -> None:
        """Idempotent, and safe after a partial ``apply``."""
        while _iptables("-D", "OUTPUT", "-o", DEVICE, "-j", self.chain, check=False).returncode == 0:
            pass
        if _iptables("-F", self.chain, check=False).returncode == 0:
            _iptables("-X", self.chain)
        if self.cgroup.exists():
            for pid in (self.cgroup / "cgroup.procs").read_text().split():
                (self.home / "cgroup.procs").write_text(pid)
            self.cgroup.rmdir()


def _iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return _run("iptables", "-w", "-t", "mangle", *args, check=check)


def _cgroup_of(pid: int) -> str:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return line[3:]
    return "/"


class NetworkFault(FaultAction):
    packets: BrokerPackets | None = None

    def prepare(self) -> None:
        self.handle = self.brokers.find(self.spec.broker)
        self.brokers.local_pid(self.handle)  # refused now if the broker is not a process on this machine

    def _select(self, verdicts: list[list[str]]) -> int:
        self.packets = BrokerPackets(self.spec.name, self.brokers.local_pid(self.handle))
        return self.packets.apply(verdicts)

    def _unselect(self) -> None:
        if self.packets is not None:
            self.packets.remove()


class NetworkPartition(NetworkFault):
    def inject(self, due: float) -> Effect:
        ports = self._select([["-j", "DROP"]])
        return Effect(time.time(), f"every packet dropped: {ports} ports and the sockets it opens")

    def recover(self, due: float) -> Effect:
        self._unselect()
        return Effect(time.time(), "rules removed")


class NetworkDegrade(NetworkFault):
    shaped = False

    def inject(self, due: float) -> Effect:
        spec, verdicts, notes = self.spec, [], []
        if spec.loss is not None:
            verdicts.append(["-m", "statistic", "--mode", "random", "--probability", f"{spec.loss:.6f}", "-j", "DROP"])
            notes.append(f"loss {spec.loss:.2%}")
        if spec.latency is not None or spec.bandwidth is not None:
            self._shape()
            verdicts.append(["-j", "CLASSIFY", "--set-class", CLASS])
            notes += [f"latency {spec.latency * 1000:g} ms"] if spec.latency is not None else []
            notes += [f"bandwidth {spec.bandwidth} B/s"] if spec.bandwidth is not None else []
        ports = self._select(verdicts)
        return Effect(time.time(), f"{', '.join(notes)} on {ports} ports and the sockets it opens")

    def _shape(self) -> None:
        current = _run("tc", "qdisc", "show", "dev", DEVICE).stdout.split()
        if current[:2] != ["qdisc", "noqueue"]:
            raise RunError(f"fault {self.spec.name}: {DEVICE} already has a root qdisc ({' '.join(current[:3])}), "
                           f"which a degrade would replace; if a killed run left it: tc qdisc del dev {DEVICE} root")
        _run("tc", "qdisc", "add", "dev", DEVICE, "root", "handle", QDISC, "htb", "default", "0")
        self.shaped = True
        bandwidth = self.spec.bandwidth
        rate = f"{bandwidth * 8}bit" if bandwidth is not None else "100gbit"
        burst = str(max(MTU_BURST, (bandwidth or 0) // 10))
        _run("tc", "class", "add", "dev", DEVICE, "parent", QDISC, "classid", CLASS, "htb",
             "rate", rate, "ceil", rate, "burst", burst, "cburst", burst)
        if self.spec.latency is not None:
            _run("tc", "qdisc", "add", "dev", DEVICE, "parent", CLASS, "handle", "10:", "netem",
                 "delay", f"{self.spec.latency * 1000:g}ms")

    def recover(self, due: float) -> Effect:
        self._unselect()
        if self.shaped:
            _run("tc", "qdisc", "del", "dev", DEVICE, "root")
            self.shaped = False
        return Effect(time.time(), "rules and qdisc removed")
