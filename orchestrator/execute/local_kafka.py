"""An embedded single-node Apache Kafka (KRaft, broker + controller in one JVM) on 127.0.0.1.

The broker keeps its data, config and logs under ``data_dir`` (the run's ``broker/`` folder) and
logs to ``data_dir/logs/server.log``, never to our stdout. It runs in its own session so that a
Ctrl-C in the terminal reaches apply, which then stops components before the broker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from orchestrator.errors import BrokerError
from orchestrator.cluster import BrokerHandle, Cluster, kraft_cluster_id
from orchestrator.artifacts.kafka import java_binary, java_classpath
from orchestrator.execute.lifeline import on_parent_death
from orchestrator.templating import render_template

NODE_ID = 0  # the plan's faults default to broker 0
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
FORMAT_TIMEOUT_S = 120.0

# Small, single-node defaults for a 2-core machine; plan properties override any of them.
DEFAULT_PROPERTIES: dict[str, str] = {
    "num.partitions": "1",
    "default.replication.factor": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "4",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "num.network.threads": "2",
    "num.io.threads": "4",
}
PropertyValue = str | int | float | bool


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def random_cluster_id() -> str:
    return kraft_cluster_id(lambda _: uuid.uuid4().bytes)


def _as_text(value: PropertyValue) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class LocalKafka:
    def __init__(self, version: str, data_dir: Path, heap: int, properties: Mapping[str, PropertyValue],
                 client_config: Mapping[str, str] | None = None, jmx: bool = False):
        """``client_config``: what clients need when ``properties`` secure the listener (tests do);
        ``jmx``: open a JMX connector on a free loopback port (``monitors.jmx``)."""
        self.version = version
        self.client_config = dict(client_config or {})
        self.data_dir = data_dir.resolve()
        self.heap_mb = max(128, heap // 1024**2)
        self.properties = {**DEFAULT_PROPERTIES, **{k: _as_text(v) for k, v in properties.items()}}
        self.broker_port = 0
        self.controller_port = 0
        self.jmx = jmx
        self.jmx_port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ paths
    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def kafka_log_dir(self) -> Path:
        """The broker's log.dirs: partition data (``log_dir`` holds its server logs)."""
        return self.data_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "server.log"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Cluster:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.broker_port, self.controller_port = free_port(), free_port()
        self.jmx_port = free_port() if self.jmx else 0
        self._write_config()
        self._format_storage()
        self._launch()
        self.wait_ready()
        return self.cluster()

    def cluster(self) -> Cluster:
        handle = BrokerHandle(node_id=NODE_ID, host="localhost", address=self.bootstrap,
                              pid=self.pid, data_dir=self.data_dir, log_dirs=(self.kafka_log_dir,),
                              jmx=f"127.0.0.1:{self.jmx_port}" if self.jmx else None)
        return Cluster(bootstrap_servers=self.bootstrap, brokers=[handle], kafka_version=self.version,
                       client_config=self.client_config)

    def stop(self) -> None:
        """SIGTERM (a controlled shutdown), then SIGKILL if it does not exit in time."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)

    def signal(self, signum: int) -> None:
        if self._proc is None or self._proc.poll() is not None:
            raise BrokerError(f"local broker {self.bootstrap} is not running; cannot send {signal.Signals(signum).name}")
        self._proc.send_signal(signum)

    def wait_exit(self, timeout: float) -> bool:
        if self._proc is None:
            return True
        try:
            self._proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def restart(self) -> None:
        """Start again on the same ports and data (after a stop or a kill)."""
        if self._proc is not None and self._proc.poll() is None:
            raise BrokerError(f"local broker {self.bootstrap} is still running (pid {self._proc.pid})")
        self._launch()
        self.wait_ready()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise BrokerError(f"local Kafka exited with status {code} while starting: {self._last_error()}")
            if _port_open(self.broker_port) and _describe_cluster(self.cluster()):
                return
            time.sleep(0.5)
        raise BrokerError(f"local Kafka on {self.bootstrap} not ready within {timeout:.0f}s: {self._last_error()}")

    # ------------------------------------------------------------------ helpers
    def _write_config(self) -> None:
        self.config_file.write_text(render_template(
            "server.properties.j2", node_id=NODE_ID, broker_port=self.broker_port,
            controller_port=self.controller_port, log_dir=self.kafka_log_dir, properties=self.properties))
        (self.data_dir / "log4j2.properties").write_text(render_template("log4j2.properties.j2", log_file=self.log_file))

    def _java(self, main_class: str, *args: str, heap_mb: int, broker: bool = False) -> list[str]:
        return [java_binary(), f"-Xmx{heap_mb}m", f"-Xms{heap_mb}m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                *(jmx_options("127.0.0.1", self.jmx_port) if broker and self.jmx else ()),
                f"-Dkafka.logs.dir={self.log_dir}", "-cp", java_classpath(self.version), main_class, *args]

    def _format_storage(self) -> None:
        cmd = self._java("kafka.tools.StorageTool", "format", "-t", random_cluster_id(),
                         "-c", str(self.config_file), heap_mb=256)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise BrokerError(f"{self.config_file}: storage format did not finish in {FORMAT_TIMEOUT_S:.0f}s") from None
        if done.returncode != 0:
            lines = [ln.strip() for ln in (done.stdout + done.stderr).splitlines()
                     if ln.strip() and not ln.strip().startswith("at ")]  # the message, not the stack
            raise BrokerError(f"{self.config_file}: storage format failed: {lines[-1] if lines else done.returncode}")

    def _launch(self) -> None:
        out = (self.log_dir / "stdout.log").open("ab")
        try:
            self._proc = subprocess.Popen(
                self._java("kafka.Kafka", str(self.config_file), heap_mb=self.heap_mb, broker=True),
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.data_dir, start_new_session=True, preexec_fn=on_parent_death(),
                env={**os.environ, "LOG_DIR": str(self.log_dir)})
        finally:
            out.close()

    def _last_error(self) -> str:
        for path in (self.log_file, self.log_dir / "stdout.log"):
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()
                errors = [ln.strip() for ln in lines if " ERROR " in ln or "Exception" in ln or ln.startswith("Error")]
                if errors:
                    return f"{path}: {errors[-1][:300]}"
        return f"no ERROR line in {self.log_file}"


def jmx_options(address: str, port: int) -> list[str]:
    """A JMX connector bound to ``address`` only, registry and RMI on one port, without
    authentication or TLS: loopback here; the provisioned brokers' lab address (kafka-service.sh.j2)."""
    return ["-Dcom.sun.management.jmxremote", f"-Dcom.sun.management.jmxremote.host={address}",
            f"-Dcom.sun.management.jmxremote.port={port}", f"-Dcom.sun.management.jmxremote.rmi.port={port}",
            f"-Djava.rmi.server.hostname={address}", "-Dcom.sun.management.jmxremote.authenticate=false",
            "-Dcom.sun.management.jmxremote.ssl=false"]


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _describe_cluster(cluster: Cluster) -> bool:
    from confluent_kafka import KafkaException

    from orchestrator.execute.topics import admin_client

    admin = admin_client(cluster)  # keep a reference: a collected client cancels its futures
    try:
        return bool(admin.describe_cluster(request_timeout=3).result(timeout=5).nodes)
    except (KafkaException, TimeoutError):
        return False
