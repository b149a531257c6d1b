"""Where the steps of a network or disk fault run: this machine, or the broker's host reached over ssh.

The faults (``network.py``, ``disk.py``) decide what to do, the same way for both; a host only runs
it. On this machine a step is a child process (or, for the fill file, a call); on another host it
is one run of ``playbooks/fault.yml`` (the kafka role's ``fault_check``, ``fault_script``,
``fault_fill`` and ``fault_unfill`` tasks), launched ``LEAD_S`` early and waiting on the host for
its moment like a signal step (``AnsibleBroker``). ``check`` is where a host over ssh is asked for
what the fault needs (this machine was asked when the plan was validated).
"""

from __future__ import annotations

import abc
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from orchestrator.cluster import BrokerHandle
from orchestrator.errors import BrokerError, RunError
from orchestrator.execute.faults import fill as fill_file
from orchestrator.execute.faults.brokers import LEAD_S, AnsibleBroker, BrokerProcess, Brokers
from orchestrator.plan.faults import Need

SCRIPT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class HostFacts:
    device: str  # the interface the broker's traffic leaves by ("lo" on this machine)
    ports: tuple[int, ...]  # every Kafka port of the cluster (over ssh; this machine selects by process)
    log_dir: Path | None  # the broker's first log dir, None when it is unknown here


class FaultHost(abc.ABC):
    remote = False
    lead_s = 0.0

    @abc.abstractmethod
    def check(self, action: str, needs: tuple[Need, ...]) -> HostFacts:
        """What the fault acts on there; refused (one line naming the host and what it lacks) when the
        host lacks one of the ``needs`` of ``action``."""

    @abc.abstractmethod
    def run(self, lines: list[str], due: float, label: str) -> float:
        """Runs ``lines`` as one ``sh -e`` script at ``due`` as root; returns when it took effect."""

    @abc.abstractmethod
    def fill(self, path: Path, fill_to: float | None, due: float) -> tuple[float, str]:
        """Fills ``path``'s file system (``fill.py``); returns when, and what the event says."""

    @abc.abstractmethod
    def unfill(self, path: Path, due: float) -> tuple[float, bool]:
        """Removes the fill file; returns when, and whether the broker process still runs."""


class ThisMachine(FaultHost):
    def __init__(self, handle: BrokerHandle, process: BrokerProcess):
        self.handle, self.process = handle, process

    def check(self, action: str, needs: tuple[Need, ...]) -> HostFacts:
        return HostFacts("lo", (), self.handle.log_dirs[0] if self.handle.log_dirs else None)

    def run(self, lines: list[str], due: float, label: str) -> float:
        done = subprocess.run(["sh", "-ec", "\n".join(lines)], capture_output=True, text=True,
                              timeout=SCRIPT_TIMEOUT_S)
        if done.returncode != 0:
            out = (done.stderr + done.stdout).strip().splitlines() or [f"exit status {done.returncode}"]
            raise RunError(f"broker {self.handle.host}: {label}: {out[-1]}")
        return time.time()

    def fill(self, path: Path, fill_to: float | None, due: float) -> tuple[float, str]:
        try:
            written, used = fill_file.fill(path, fill_to)
        except fill_file.FillError as err:
            raise RunError(str(err)) from None
        return time.time(), fill_note(written, used, path)

    def unfill(self, path: Path, due: float) -> tuple[float, bool]:
        path.unlink(missing_ok=True)
        try:
            pid = self.process.pid
            alive = pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except (BrokerError, psutil.NoSuchProcess):
            alive = False
        return time.time(), alive


class OverSsh(FaultHost):
    remote = True
    lead_s = LEAD_S

    def __init__(self, broker: AnsibleBroker):
        self.broker = broker

    def _step(self, action: str, due: float, extravars: dict[str, object], label: str = "") -> dict[str, object]:
        self.broker.due = due
        return self.broker.step(action, extravars, label)

    def check(self, action: str, needs: tuple[Need, ...]) -> HostFacts:
        facts = self._step("check", 0.0, {"kafka_fault_needed_by": action,
                                          "kafka_fault_needs": [{"what": n.what, "test": n.test} for n in needs]})
        ports = _parsed(facts.get("kafka_fault_ports") or [])
        return HostFacts(str(facts.get("kafka_fault_device", "")), tuple(sorted({int(p) for p in ports})),
                         Path(str(facts["kafka_fault_log_dir"])))

    def run(self, lines: list[str], due: float, label: str) -> float:
        self._step("script", due, {"kafka_fault_script": "\n".join(lines)}, label)
        assert self.broker.took_effect_at is not None
        return self.broker.took_effect_at

    def fill(self, path: Path, fill_to: float | None, due: float) -> tuple[float, str]:
        facts = self._step("fill", due, {"kafka_fault_fill_script": fill_file.__file__, "kafka_fault_path": str(path),
                                         "kafka_fault_fill_to": "-" if fill_to is None else fill_to})
        done = _parsed(facts["kafka_fault_filled"])
        assert self.broker.took_effect_at is not None
        return self.broker.took_effect_at, fill_note(int(done["written"]), float(done["used"]), path)

    def unfill(self, path: Path, due: float) -> tuple[float, bool]:
        facts = self._step("unfill", due, {"kafka_fault_path": str(path)})
        assert self.broker.took_effect_at is not None
        return self.broker.took_effect_at, str(facts.get("kafka_pid", "")).strip() not in ("", "0")


def fault_host(brokers: Brokers, handle: BrokerHandle) -> FaultHost:
    process = brokers.process(handle)
    return OverSsh(process) if isinstance(process, AnsibleBroker) else ThisMachine(handle, process)


def _parsed(fact: object) -> Any:
    """A list or mapping fact: Ansible hands over a template's JSON text parsed, or as the text."""
    return json.loads(fact) if isinstance(fact, str) else fact


def fill_note(written: int, used: float, path: Path) -> str:
    return f"{written / 1024**2:.0f} MiB in {path}, file system {used:.0%} used"
