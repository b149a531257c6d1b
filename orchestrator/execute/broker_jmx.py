"""The brokers' own metrics, read from their JMX by Kafka's JmxTool: one long-lived JVM per broker.

Each JmxTool queries the MBeans of the catalogue (``orchestrator.plan.sources.JMX_METRICS``) every
``monitors.jmx.interval`` and appends one block of ``<object name>:<attribute>\\t<value>`` lines,
led by ``time\\t<epoch ms>``, to raw/jmx/<broker id>.tsv (its stderr goes to raw/jmx/<broker id>.log).
JmxTool exits when its broker goes away (a fault stops or kills it): poll() starts it again, no
sooner than ``RESTART_S`` after the previous start, and it appends to the same file. One that
connected to a broker still starting sees only the JVM's MBeans, and is started again too.

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
from orchestrator.execute.lifeline import on_parent_death
from orchestrator.plan.models import Plan
from orchestrator.plan.sources import JMX_METRICS, ROLE_MARKERS
from orchestrator.rundir import RunDir

JMXTOOL = "org.apache.kafka.tools.JmxTool"
RESTART_S = 10.0  # a JmxTool that lost its broker retries for 10 s by itself, then exits
READY_TIMEOUT_S = 60.0  # JVM start and the first sample take seconds on a loaded machine
READY_POLL_S = 0.5
# the key of an MBean every broker has (ROLE_MARKERS[0]): present once JmxTool found the broker's MBeans
BROKER_MARKER = f"{ROLE_MARKERS[0]}:".encode()
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
    offset: int = 0  # where this JmxTool's output begins in the file
    complete: bool = False  # its output holds the broker's own MBeans


class BrokerJmxMonitor(Component):
    """JmxTool runs from ``prepare`` on, which waits (at most ``READY_TIMEOUT_S``) for every
    broker's first complete sample, so that the first phase is measured from its first second."""

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
        self.run.raw_jmx.mkdir(parents=True, exist_ok=True)
        for sampler in self._samplers:
            self._launch(sampler)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not all(s.complete for s in self._samplers) and time.monotonic() < deadline:
            time.sleep(READY_POLL_S)
            self.poll()

    def start(self) -> None:
        """Nothing to do: the samplers run since ``prepare``."""

    def _launch(self, sampler: _Sampler) -> None:
        path = self.run.jmx_samples(sampler.broker)
        with path.open("ab") as out, self.run.jmx_log(sampler.broker).open("ab") as err:
            sampler.offset, sampler.complete = out.tell(), False
            sampler.process = subprocess.Popen(
                [java_binary(), *JVM_OPTIONS, "-cp", self._classpath, JMXTOOL,
                 *jmxtool_arguments(sampler.jmx, self.interval_ms)],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, preexec_fn=on_parent_death())
        sampler.started = time.monotonic()

    def _check(self, sampler: _Sampler) -> bool:
        """Whether the sampler's output so far holds the broker's MBeans. JmxTool finds its MBeans
        once, when it connects: one that reached a broker still starting (just restarted by a
        fault) has only the JVM's, and is started again."""
        with self.run.jmx_samples(sampler.broker).open("rb") as out:
            out.seek(sampler.offset)
            output = out.read()
        sampler.complete = BROKER_MARKER in output
        return sampler.complete or output.count(b"time\t") < 2

    def poll(self) -> bool:
        """Starts again each JmxTool that exited (its broker went away) or found no broker MBeans,
        no sooner than ``RESTART_S`` after its last start; a gap, never a failure."""
        if self._stopped:
            return False
        for sampler in self._samplers:
            process = sampler.process
            if process is None:
                continue
            running = process.poll() is None
            usable = running and (sampler.complete or self._check(sampler))
            if not usable and time.monotonic() - sampler.started >= RESTART_S:
                _end(process)
                self._launch(sampler)
        return True

    def stop(self) -> None:
        self._stopped = True
        for sampler in self._samplers:
            process, sampler.process = sampler.process, None
            if process is not None:
                _end(process)


def _end(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
