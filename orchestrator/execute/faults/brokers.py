"""The broker processes a fault can signal and start again, wherever they run.

The broker is the local one this run started (``LocalKafka``); or one provisioned onto this machine
and run by the provisioning playbooks' ``kafka-service.sh`` (pidfile supervisor), which also
restarts it so teardown still finds it; or a provisioned broker on another host, signalled and
restarted through ``playbooks/fault.yml`` (the kafka role).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import psutil

from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.errors import BrokerError, ProvisionError, RunError
from orchestrator.execute import lifeline
from orchestrator.execute.local_kafka import READY_TIMEOUT_S
from orchestrator.remote.playbooks import HostPlaybooks

EXIT_TIMEOUT_S = 30.0
LEAD_S = 30.0  # an Ansible step is launched this long before it is due


class BrokerProcess(Protocol):
    """A broker process orchestrate can signal and start again (LocalKafka is one)."""

    @property
    def pid(self) -> int | None: ...
    def signal(self, signum: int) -> None: ...
    def wait_exit(self, timeout: float) -> bool: ...
    def restart(self) -> None: ...


class ServiceBroker:
    """A provisioned broker on this machine, supervised by ``<kafka home>/bin/kafka-service.sh``."""

    def __init__(self, handle: BrokerHandle, home: Path):
        self.handle = handle
        self.script = home / "bin" / "kafka-service.sh"
        self.pidfile = home / "kafka.pid"

    @property
    def pid(self) -> int:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            raise BrokerError(f"broker {self.handle.host}: no pid in {self.pidfile}") from None

    def signal(self, signum: int) -> None:
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            raise BrokerError(f"broker {self.handle.host}: pid {self.pid} is not running") from None

    def wait_exit(self, timeout: float) -> bool:
        try:
            psutil.Process(self.pid).wait(timeout=timeout)
        except psutil.NoSuchProcess:
            pass
        except psutil.TimeoutExpired:
            return False
        return True

    def restart(self) -> None:
        # the restarted broker belongs to the cluster like the ones provisioning started, not to this
        # apply: without apply's tag, so a watchdog cleaning up after a dead apply leaves it alone
        env = {k: v for k, v in os.environ.items() if k != lifeline.ENV}
        done = subprocess.run([str(self.script), "start"], capture_output=True, text=True, timeout=READY_TIMEOUT_S,
                              env=env)
        if done.returncode != 0:
            lines = (done.stdout + done.stderr).strip().splitlines() or [f"exit status {done.returncode}"]
            raise BrokerError(f"broker {self.handle.host}: {self.script} start failed: {lines[-1]}")
        host, _, port = self.handle.address.rpartition(":")
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, int(port)), timeout=1):
                    return
            except OSError:
                time.sleep(0.5)
        raise BrokerError(f"broker {self.handle.host}: not listening on {self.handle.address} "
                          f"{READY_TIMEOUT_S:.0f}s after restart")


class AnsibleBroker:
    """A provisioned broker on another host: each step is one run of ``playbooks/fault.yml``.

    SSH and fact gathering take seconds (more on a loaded machine), so each step is launched
    ``LEAD_S`` before it is ``due`` and waits on the host for that moment; the host reports when
    the step took effect (``took_effect_at``, controller clock). ``signal`` with SIGTERM or SIGKILL
    also waits on the host for the exit (SIGKILL after the role's ``kafka_stop_timeout``), so
    ``wait_exit`` has nothing left to wait for.
    """

    def __init__(self, handle: BrokerHandle, provisioner: HostPlaybooks, fault: str):
        self.handle = handle
        self.provisioner = provisioner
        self.fault = fault
        self.due = 0.0  # epoch second the next step takes effect; the past means at once
        self.took_effect_at: float | None = None

    @property
    def pid(self) -> None:
        return None  # the process is on another host

    def step(self, action: str, extravars: dict[str, object], label: str = "") -> dict[str, object]:
        """One run of the kafka role's ``fault_<action>`` on the broker's host, taking effect at ``due``;
        returns the facts it set (artifacts: ``fault-<fault>-<host>-<action>[-<label>]``)."""
        ident = f"fault-{self.fault}-{self.handle.host}-{action}" + (f"-{label}" if label else "")
        result = self.provisioner.run("fault.yml", ident, {"fault_host": self.handle.host, "kafka_fault_name": self.fault,
                                                           "kafka_fault_action": action, "kafka_fault_due": self.due,
                                                           **extravars})
        facts = result.facts.get(self.handle.host, {})
        if facts.get("kafka_fault_at") is None:
            raise ProvisionError(self.handle.host, f"fault.yml {action}", "no Kafka node of that name ran the step")
        self.took_effect_at = float(str(facts["kafka_fault_at"]))
        return facts

    def signal(self, signum: int) -> None:
        name = signal.Signals(signum).name.removeprefix("SIG")
        self.step("signal", {"kafka_fault_signal": name}, name)

    def wait_exit(self, timeout: float) -> bool:
        return True

    def restart(self) -> None:
        self.step("start", {})


def ensure_exited(process: BrokerProcess) -> None:
    """After a SIGTERM: SIGKILL when the broker has not exited within EXIT_TIMEOUT_S."""
    if not process.wait_exit(EXIT_TIMEOUT_S):
        process.signal(signal.SIGKILL)
        if not process.wait_exit(EXIT_TIMEOUT_S):
            raise BrokerError(f"broker pid {process.pid} did not exit after SIGKILL")


def when_done(broker: BrokerProcess, due: float, step: Callable[[], None]) -> float:
    """Runs ``step`` to take effect at ``due`` and returns when it did: as an Ansible broker reports
    it, else now (a signal sent from here, or a local restart that returns once the broker listens)."""
    if isinstance(broker, AnsibleBroker):
        broker.due = due
        step()
        assert broker.took_effect_at is not None
        return broker.took_effect_at
    step()
    return time.time()


class Brokers:
    """Finds the process behind each broker of the cluster: this run's local broker, a provisioned one
    on this machine, or one on another host through ``provisioner`` (None: this machine's only)."""

    def __init__(self, cluster: Cluster, local: Mapping[int, BrokerProcess], provisioner: HostPlaybooks | None,
                 fault: str):
        self.cluster, self.local, self.provisioner, self.fault = cluster, local, provisioner, fault

    def find(self, broker: int | str) -> BrokerHandle:
        for handle in self.cluster.brokers:
            if broker in (handle.node_id, handle.host):
                return handle
        known = ", ".join(f"{b.node_id} ({b.host})" for b in self.cluster.brokers)
        raise RunError(f"fault {self.fault}: no broker {broker!r} in the cluster; brokers: {known}")

    def process(self, handle: BrokerHandle) -> BrokerProcess:
        home = handle.data_dir
        if handle.node_id in self.local and handle.pid is not None:
            return self.local[handle.node_id]
        if handle.pid is not None and home is not None and (home / "bin" / "kafka-service.sh").exists():
            return ServiceBroker(handle, home)
        if self.provisioner is not None:
            return AnsibleBroker(handle, self.provisioner, self.fault)
        raise RunError(f"fault {self.fault}: broker {handle.host} ({handle.address}) has no process on "
                       "this machine that orchestrate can signal and restart")

    def local_pid(self, handle: BrokerHandle) -> int:
        """The pid of a broker running on this machine now (a restart gives it a new one)."""
        pid = self.process(handle).pid
        if pid is None:
            raise RunError(f"fault {self.fault}: broker {handle.host} ({handle.address}) does not run on this machine")
        return pid
