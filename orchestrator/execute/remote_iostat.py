"""iostat on every broker host of the plan's inventory, for one run, through the monitor role, and
beside it (``monitors.host``) a sampler of the host's CPU, memory and network from /proc, whose
JSON lines are fetched to ``raw/host/<inventory host>.jsonl``.

prepare() starts ``iostat -o JSON`` on each host in the background (bounded: it stops by itself a
little after the plan's last phase) and waits for the playbook, so that the samples cover the first
phase; stop() interrupts it, which closes the JSON document, and fetches the output to
``raw/iostat/<inventory host>.json`` for the collector.
"""

from __future__ import annotations

import math

from orchestrator.cluster import Cluster

from orchestrator.execute.base import Component
from orchestrator.plan.models import Plan
from orchestrator.remote.playbooks import HostPlaybooks
from orchestrator.rundir import RunDir

IOSTAT_OUTLIVES_S = 600  # teardown and collection happen after the last phase; iostat must outlive them


class RemoteIostat(Component):
    name = "iostat"

    def __init__(self, plan: Plan, run: RunDir, hosts: HostPlaybooks):
        self.provisioner = hosts
        self.run = run
        self.settings = plan.monitors.iostat
        self.samples = math.ceil((plan.total_duration + IOSTAT_OUTLIVES_S) / self.settings.interval)
        self.host = plan.monitors.host
        self.host_samples = math.ceil((plan.total_duration + IOSTAT_OUTLIVES_S) / self.host.interval)
        self.run_id = run.root.name
        self._running = False

    def _vars(self, action: str) -> dict[str, object]:
        return {"monitor_action": action, "monitor_run_id": self.run_id,
                "monitor_interval": int(self.settings.interval), "monitor_max_samples": self.samples,
                "monitor_devices": list(self.settings.devices),
                "monitor_fetch_dir": str(self.run.raw_iostat) if action == "stop" else "",
                "monitor_host": self.host.enabled, "monitor_host_interval": int(self.host.interval),
                "monitor_host_max_samples": self.host_samples,
                "monitor_host_fetch_dir": str(self.run.raw_host) if action == "stop" else ""}

    def prepare(self, cluster: Cluster) -> None:
        """Starts the monitors here, not in ``start``: the playbook takes seconds (tens on a loaded
        machine), and the samples must cover the first phase from its first second."""
        self.provisioner.layout()
        self._running = True  # stop() stops whatever the playbook got going, even if it failed
        self.provisioner.run("monitor.yml", "iostat-start", self._vars("start"))

    def start(self) -> None:
        """Nothing to do: the monitors run since ``prepare``."""

    def poll(self) -> bool:
        return self._running

    def stop(self) -> None:
        if self._running:
            self._running = False
            self.run.raw_iostat.mkdir(parents=True, exist_ok=True)
            self.run.raw_host.mkdir(parents=True, exist_ok=True)
            self.provisioner.run("monitor.yml", "iostat-stop", self._vars("stop"))
