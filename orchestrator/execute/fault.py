"""Scheduled broker faults: stop (SIGTERM), kill (SIGKILL) or pause (SIGSTOP) a broker process at
``start_at + at``, and recover it ``duration`` later. The broker is the local one this run started;
or one provisioned onto this machine and run by the provisioning playbooks' ``kafka-service.sh``
(pidfile supervisor), which also restarts it so teardown still finds it; or a provisioned broker
on another host, signalled and restarted through ``playbooks/fault.yml`` (the kafka role).

``fault_start`` is written when the signal was delivered and ``fault_end`` when the broker listens
again (or was resumed): the report's recovery time is the span between them, and an Ansible
broker's steps take seconds of their own that must not count.

The fault runs in its own thread so that a broker that takes a while to come back does not stall
the pipeline's clock. ``stop()`` always recovers a broker that is still down or paused: a run never
ends with a broker left frozen.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import psutil

from orchestrator.errors import BrokerError, ProvisionError, RunError
from orchestrator.events import EventLog
from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.execute.base import Component
from orchestrator.execute.local_kafka import READY_TIMEOUT_S
from orchestrator.plan.models import Fault as FaultSpec
from orchestrator.remote.playbooks import HostPlaybooks

EXIT_TIMEOUT_S = 30.0
LEAD_S = 30.0  # an Ansible step is launched this long before it is due
JOIN_TIMEOUT_S = LEAD_S + EXIT_TIMEOUT_S + READY_TIMEOUT_S + 10


class BrokerProcess(Protocol):
    """A broker process orchestrate can signal and start again (LocalKafka is one)."""

    def signal(self, signum: int) -> None: ...
    def wait_exit(self, timeout: float) -> bool: ...
    def restart(self) -> None: ...


class ServiceBroker:
    """A provisioned broker on this machine, supervised by ``<kafka home>/bin/kafka-service.sh``."""

    def __init__(self, handle: BrokerHandle, home: Path):
        self.handle = handle
        self.script = home / "bin" / "kafka-service.sh"
        self.pidfile = home / "kafka.pid"

    def _pid(self) -> int:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            raise BrokerError(f"broker {self.handle.host}: no pid in {self.pidfile}") from None

    def signal(self, signum: int) -> None:
        try:
            os.kill(self._pid(), signum)
        except ProcessLookupError:
            raise BrokerError(f"broker {self.handle.host}: pid {self._pid()} is not running") from None

    def wait_exit(self, timeout: float) -> bool:
        try:
            psutil.Process(self._pid()).wait(timeout=timeout)
        except psutil.NoSuchProcess:
            pass
        except psutil.TimeoutExpired:
            return False
        return True

    def restart(self) -> None:
        done = subprocess.run([str(self.script), "start"], capture_output=True, text=True, timeout=READY_TIMEOUT_S)
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

    def _step(self, action: str, extravars: dict[str, object]) -> None:
        suffix = f"-{extravars['kafka_fault_signal']}" if "kafka_fault_signal" in extravars else ""
        result = self.provisioner.run("fault.yml", f"fault-{self.fault}-{action}{suffix}",
                                      {"fault_host": self.handle.host, "kafka_fault_action": action,
                                       "kafka_fault_due": self.due, **extravars})
        at = result.facts.get(self.handle.host, {}).get("kafka_fault_at")
        if at is None:
            raise ProvisionError(self.handle.host, f"fault.yml {action}", "no Kafka node of that name ran the step")
        self.took_effect_at = float(str(at))

    def signal(self, signum: int) -> None:
        self._step("signal", {"kafka_fault_signal": signal.Signals(signum).name.removeprefix("SIG")})

    def wait_exit(self, timeout: float) -> bool:
        return True

    def restart(self) -> None:
        self._step("start", {})


class Fault(Component):
    def __init__(self, spec: FaultSpec, events: EventLog, local: Mapping[int, BrokerProcess],
                 provisioner: HostPlaybooks | None = None):
        """``provisioner`` reaches brokers on other hosts; without it only this machine's brokers can fail."""
        self.spec = spec
        self.name = f"fault:{spec.name}"
        self.events = events
        self.local = local
        self.provisioner = provisioner
        self.broker: BrokerProcess | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def prepare(self, cluster: Cluster) -> None:
        handle = _find(cluster, self.spec)
        home = handle.data_dir
        if handle.node_id in self.local and handle.pid is not None:
            self.broker = self.local[handle.node_id]
        elif handle.pid is not None and home is not None and (home / "bin" / "kafka-service.sh").exists():
            self.broker = ServiceBroker(handle, home)
        elif self.provisioner is not None:
            self.broker = AnsibleBroker(handle, self.provisioner, self.spec.name)
        else:
            raise RunError(f"fault {self.spec.name}: broker {handle.host} ({handle.address}) has no process on "
                           "this machine that orchestrate can signal and restart")

    def start(self) -> None:
        if self.start_at is None:
            raise RunError(f"fault {self.spec.name}: started without a schedule")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def poll(self) -> bool:
        if isinstance(self._error, ProvisionError):
            raise self._error  # already names the host and the task
        if self._error is not None:
            raise BrokerError(f"fault {self.spec.name}: {self._error}")
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout=JOIN_TIMEOUT_S)

    # ------------------------------------------------------------------ the fault thread
    def _run(self) -> None:
        assert self.broker is not None and self.start_at is not None
        lead = LEAD_S if isinstance(self.broker, AnsibleBroker) else 0.0
        due = self.start_at + self.spec.at
        if self._cancel.wait(max(0.0, due - lead - time.time())):
            return
        try:
            self._inject(self.broker, due, lead)
        except BaseException as err:  # noqa: BLE001 - handed to poll() on the pipeline's thread
            self._error = err

    def _inject(self, broker: BrokerProcess, due: float, lead: float) -> None:
        action = self.spec.action
        first = {"broker_pause": signal.SIGSTOP, "broker_stop": signal.SIGTERM}.get(action, signal.SIGKILL)
        began = _when_done(broker, due, lambda: broker.signal(first))
        self.events.write("fault_start", self.spec.name, f"{action} broker {self.spec.broker}", ts=began)
        if action != "broker_pause" and not broker.wait_exit(EXIT_TIMEOUT_S):
            broker.signal(signal.SIGKILL)
            broker.wait_exit(EXIT_TIMEOUT_S)
        # a stopped run recovers the broker at once
        due = began + self.spec.duration
        if self._cancel.wait(max(0.0, due - lead - time.time())):
            due = time.time()
        recover = (lambda: broker.signal(signal.SIGCONT)) if action == "broker_pause" else broker.restart
        ended = _when_done(broker, due, recover)
        self.events.write("fault_end", self.spec.name,
                          f"{action} broker {self.spec.broker}: recovered after {ended - began:.1f}s", ts=ended)


def _when_done(broker: BrokerProcess, due: float, step: Callable[[], None]) -> float:
    """Runs ``step`` to take effect at ``due`` and returns when it did: as an Ansible broker reports
    it, else now (a signal sent from here, or a local restart that returns once the broker listens)."""
    if isinstance(broker, AnsibleBroker):
        broker.due = due
        step()
        assert broker.took_effect_at is not None
        return broker.took_effect_at
    step()
    return time.time()


def _find(cluster: Cluster, spec: FaultSpec) -> BrokerHandle:
    for handle in cluster.brokers:
        if spec.broker in (handle.node_id, handle.host):
            return handle
    known = ", ".join(f"{b.node_id} ({b.host})" for b in cluster.brokers)
    raise RunError(f"fault {spec.name}: no broker {spec.broker!r} in the cluster; brokers: {known}")
