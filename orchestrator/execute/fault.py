"""Scheduled broker faults: stop (SIGTERM), kill (SIGKILL) or pause (SIGSTOP) a broker process on
this machine at ``start_at + at``, and recover it ``duration`` later. The broker is either the local
one this run started, or one provisioned onto this machine and run by the provisioning playbooks'
``kafka-service.sh`` (pidfile supervisor), which also restarts it so teardown still finds it.

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
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import psutil

from orchestrator.errors import BrokerError, RunError
from orchestrator.events import EventLog
from orchestrator.execute.base import BrokerHandle, Cluster, Component
from orchestrator.plan.models import Fault as FaultSpec

EXIT_TIMEOUT_S = 30.0
from orchestrator.execute.local_kafka import READY_TIMEOUT_S
JOIN_TIMEOUT_S = EXIT_TIMEOUT_S + READY_TIMEOUT_S + 10


class BrokerProcess(Protocol):
    """A broker process this machine can signal and start again (LocalKafka is one)."""

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


class Fault(Component):
    def __init__(self, spec: FaultSpec, events: EventLog, local: Mapping[int, BrokerProcess]):
        self.spec = spec
        self.name = f"fault:{spec.name}"
        self.events = events
        self.local = local
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
        else:
            raise RunError(f"fault {self.spec.name}: broker {handle.host} ({handle.address}) has no process on "
                           "this machine that orchestrate can signal and restart")

    def start(self) -> None:
        if self.start_at is None:
            raise RunError(f"fault {self.spec.name}: started without a schedule")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def poll(self) -> bool:
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
        if self._cancel.wait(max(0.0, self.start_at + self.spec.at - time.time())):
            return
        try:
            self._inject(self.broker)
        except BaseException as err:  # noqa: BLE001 - handed to poll() on the pipeline's thread
            self._error = err

    def _inject(self, broker: BrokerProcess) -> None:
        action, began = self.spec.action, time.time()
        self.events.write("fault_start", self.spec.name, f"{action} broker {self.spec.broker}")
        if action == "broker_pause":
            broker.signal(signal.SIGSTOP)
            self._cancel.wait(self.spec.duration)
            broker.signal(signal.SIGCONT)
        else:
            broker.signal(signal.SIGTERM if action == "broker_stop" else signal.SIGKILL)
            if not broker.wait_exit(EXIT_TIMEOUT_S):
                broker.signal(signal.SIGKILL)
                broker.wait_exit(EXIT_TIMEOUT_S)
            self._cancel.wait(max(0.0, began + self.spec.duration - time.time()))
            broker.restart()
        self.events.write("fault_end", self.spec.name,
                          f"{action} broker {self.spec.broker}: recovered after {time.time() - began:.1f}s")


def _find(cluster: Cluster, spec: FaultSpec) -> BrokerHandle:
    for handle in cluster.brokers:
        if spec.broker in (handle.node_id, handle.host):
            return handle
    known = ", ".join(f"{b.node_id} ({b.host})" for b in cluster.brokers)
    raise RunError(f"fault {spec.name}: no broker {spec.broker!r} in the cluster; brokers: {known}")
