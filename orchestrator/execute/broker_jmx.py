"""The brokers' own metrics, read from their JMX by Kafka's JmxTool: one long-lived JVM per broker.

Each JmxTool queries the MBeans of the catalogue (``orchestrator.plan.sources.JMX_METRICS``) every
``monitors.jmx.interval`` and appends one block of ``<object name>:<attribute>\\t<value>`` lines,
led by ``time\\t<epoch ms>``, to raw/jmx/<broker id>.tsv (its stderr goes to raw/jmx/<broker id>.log).
JmxTool exits when its broker goes away (a fault stops or kills it): poll() starts it again, no
sooner than ``RESTART_S`` after the previous start, and it appends to the same file.

The catalogue's wildcard MBean (the garbage collectors) makes JmxTool count each MBean's attributes
one by one; with exact names only it expects every listed attribute on every MBean and prints nothing.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

from orchestrator.artifacts.kafka import java_binary, java_classpath, kafka_libs
from orchestrator.cluster import Cluster
from orchestrator.errors import RunError
from orchestrator.execute.base import Component
from orchestrator.plan.models import Plan
from orchestrator.plan.sources import JMX_METRICS
from orchestrator.rundir import RunDir

JMXTOOL = "org.apache.kafka.tools.JmxTool"
RESTART_S = 10.0  # a JmxTool that lost its broker retries for 10 s by itself, then exits
STOP_TIMEOUT_S = 5.0
JVM_OPTIONS = ("-Xms16m", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")


def jmxtool_arguments(jmx: str, interval_ms: int) -> list[str]:
    """JmxTool's command-line options for the catalogue, against ``jmx`` (host:port)."""
    args = ["--jmx-url", f"service:jmx:rmi:///jndi/rmi://{jmx}/jmxrmi"]
    for mbean in sorted({m.mbean for m in JMX_METRICS}):
        args += ["--object-name", mbean]
    # interval means need each histogram's Count beside its Mean
    attributes = sorted({m.base_attribute for m in JMX_METRICS} | {"Count"})
    return args + ["--attributes", ",".join(attributes), "--reporting-interval", str(interval_ms),
                   "--report-format", "tsv"]


@dataclass
class _Sampler:
    broker: str
    jmx: str
    process: subprocess.Popen | None = None
    started: float = 0.0


class BrokerJmxMonitor(Component):
    name = "jmx"

    def __init__(self, plan: Plan, run: RunDir):
        self.interval_ms = int(plan.monitors.jmx.interval * 1000)
        self.run = run
        self._samplers: list[_Sampler] = []
        self._classpath = ""
        self._stopped = False

    def prepare(self, cluster: Cluster) -> None:
        self._samplers = [_Sampler(str(b.node_id), b.jmx) for b in cluster.brokers if b.jmx]
        if not self._samplers:
            raise RunError("monitors.jmx: no broker of the target has a JMX port (only brokers this tool starts do)")
        kafka_libs(cluster.kafka_version)  # JmxTool comes with the brokers' own Kafka jars
        self._classpath = java_classpath(cluster.kafka_version)

    def start(self) -> None:
        self.run.raw_jmx.mkdir(parents=True, exist_ok=True)
        for sampler in self._samplers:
            self._launch(sampler)

    def _launch(self, sampler: _Sampler) -> None:
        with self.run.jmx_samples(sampler.broker).open("ab") as out, self.run.jmx_log(sampler.broker).open("ab") as err:
            sampler.process = subprocess.Popen(
                [java_binary(), *JVM_OPTIONS, "-cp", self._classpath, JMXTOOL,
                 *jmxtool_arguments(sampler.jmx, self.interval_ms)],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        sampler.started = time.monotonic()

    def poll(self) -> bool:
        """Starts again each JmxTool that exited (its broker went away); a gap, never a failure."""
        if self._stopped:
            return False
        for sampler in self._samplers:
            gone = sampler.process is not None and sampler.process.poll() is not None
            if gone and time.monotonic() - sampler.started >= RESTART_S:
                self._launch(sampler)
        return True

    def stop(self) -> None:
        self._stopped = True
        for sampler in self._samplers:
            process, sampler.process = sampler.process, None
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
