"""Partition sizes per broker from Kafka's own describeLogDirs, through ``org.apache.kafka.tools.LogDirsCommand``.

confluent-kafka's AdminClient has no describeLogDirs, so the Java tool is run as a bounded
subprocess. It is given only ``--bootstrap-server``: a cluster that needs secrets would need them in
a command-config file, and secrets are never written to files, so such clusters are refused.
"""

from __future__ import annotations

import json
import subprocess
import threading

from orchestrator.errors import RunError
from orchestrator.cluster import Cluster
from orchestrator.artifacts.kafka import java_binary, java_classpath
from orchestrator.plan.models import LocalTarget

TOOL = "org.apache.kafka.tools.LogDirsCommand"
TIMEOUT_S = 20.0
# a short-lived tool: a small heap and no optimising JIT keep it light beside the load
JVM_OPTIONS = ["-Xms16m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


def refusal(cluster: Cluster) -> str | None:
    """Why describeLogDirs cannot be asked of ``cluster``, or None when it can."""
    if cluster.secret_env:
        return "describeLogDirs would need the cluster's secrets in a command-config file"
    if cluster.client_config.get("security.protocol", "PLAINTEXT") != "PLAINTEXT":
        return "describeLogDirs runs only against PLAINTEXT listeners"
    return None


class Cancelled(RunError):
    """The monitor stopped while the tool ran: not a failure of the cluster or the tool."""


class LogDirsCommand:
    """One ``--describe`` at a time; ``cancel()`` kills a running one from another thread."""

    def __init__(self, cluster: Cluster, topics: list[str], timeout: float = TIMEOUT_S):
        # the admin protocol is negotiated, so any tools version serves; an existing cluster's version
        # is unknown, and then the jars of the default (prefetched) version are used
        version = cluster.kafka_version if cluster.kafka_version[:1].isdigit() else LocalTarget().kafka_version
        self.command = [java_binary(), *JVM_OPTIONS, "-cp", java_classpath(version), TOOL,
                        "--bootstrap-server", cluster.bootstrap_servers, "--describe"]
        if topics:
            self.command += ["--topic-list", ",".join(topics)]
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._cancelled = False

    def run(self) -> tuple[dict[str, dict[str, int]], list[str]]:
        """({broker id: {"<topic>-<partition>": bytes}}, errors of single log dirs); RunError when the tool fails."""
        with self._lock:
            if self._cancelled:
                raise Cancelled(f"{TOOL}: cancelled")
            self._process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             stdin=subprocess.DEVNULL, text=True, errors="replace")
        try:
            stdout, stderr = self._process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.communicate()
            raise RunError(f"{TOOL}: no answer within {self.timeout:g}s") from None
        if self._cancelled:
            raise Cancelled(f"{TOOL}: cancelled")
        if self._process.returncode != 0:
            last = ([line for line in stderr.splitlines() if line.strip()] or [f"exit status {self._process.returncode}"])[-1]
            raise RunError(f"{TOOL}: {last.strip()}")
        return parse_log_dirs(stdout)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._process is not None and self._process.poll() is None:
                self._process.kill()


def parse_log_dirs(stdout: str) -> tuple[dict[str, dict[str, int]], list[str]]:
    """The JSON line of LogDirsCommand's output ▶ sizes per broker id, summed over its log dirs."""
    line = next((line for line in stdout.splitlines() if line.startswith("{")), None)
    if line is None:
        raise RunError(f"{TOOL}: no JSON line in its output")
    try:
        sizes: dict[str, dict[str, int]] = {}
        errors = []
        for broker in json.loads(line)["brokers"]:
            partitions = sizes.setdefault(str(broker["broker"]), {})
            for log_dir in broker["logDirs"]:
                if log_dir.get("error"):
                    errors.append(f"broker {broker['broker']} {log_dir['logDir']}: {log_dir['error']}")
                for p in log_dir.get("partitions") or []:
                    if not p.get("isFuture"):  # a replica being moved between dirs is counted where it is now
                        partitions[p["partition"]] = partitions.get(p["partition"], 0) + int(p["size"])
        return sizes, errors
    except (ValueError, KeyError, TypeError) as err:
        raise RunError(f"{TOOL}: unexpected JSON: {err!r}") from None
