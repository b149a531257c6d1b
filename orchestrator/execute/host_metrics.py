"""CPU, memory and network of this machine (psutil), sampled from a background thread.

Every ``monitors.host.interval`` one line goes to raw/host/localhost.jsonl:

    {"ts": 1733230000.12, "cpu": 37.5, "memory": 41.2, "net_rx_bytes": 123456789, "net_tx_bytes": 98765432}

``cpu`` is the host's CPU use since the previous line in percent of every core, ``memory`` the share
of memory in use (total minus available), the byte counts are cumulative over every interface
(loopback included: the local broker's traffic is there). The collector turns them into rates.
"""

from __future__ import annotations

import json
import threading
import time

import psutil

from orchestrator.cluster import Cluster
from orchestrator.execute.base import Component
from orchestrator.plan.models import Plan
from orchestrator.rundir import RunDir

HOST = "localhost"
STOP_TIMEOUT_S = 5.0


def host_sample() -> dict:
    memory, net = psutil.virtual_memory(), psutil.net_io_counters()
    return {"ts": time.time(), "cpu": psutil.cpu_percent(None), "memory": memory.percent,
            "net_rx_bytes": net.bytes_recv, "net_tx_bytes": net.bytes_sent}


class HostSampler(Component):
    name = "host"

    def __init__(self, plan: Plan, run: RunDir):
        self.interval = plan.monitors.host.interval
        self.output = run.host_samples(HOST)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prepare(self, cluster: Cluster) -> None:
        psutil.cpu_percent(None)  # the first call only starts psutil's CPU interval

    def start(self) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="host-monitor", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        with self.output.open("a", encoding="utf-8") as out:
            while not self._stop.is_set():
                started = time.monotonic()
                out.write(json.dumps(host_sample(), separators=(",", ":")) + "\n")
                out.flush()
                self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def poll(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
            self._thread = None
