"""Monitors that run beside the load: iostat on this machine, and Kafka admin samples.

``IostatMonitor`` runs ``iostat -dxk -y -t -o JSON <interval>`` (ISO timestamps, C locale) into
raw/iostat/localhost.json until stopped; the collector reads the complete entries of the JSON a
killed iostat leaves behind. Remote hosts are monitored by the provisioning playbooks with the same
command and read by the same parser.

``KafkaAdminMonitor`` samples the cluster from a background thread every
``monitors.kafka_admin.interval`` into raw/kafka_admin/samples.jsonl (format: see
``orchestrator.collect.kafka_admin``). Every admin call is bounded by a timeout; a failed call is
recorded in the sample's ``errors`` and sampling goes on. confluent-kafka's AdminClient has no
describeLogDirs, so log-dir sizes come from the partition directories on disk for brokers this
machine runs (``BrokerHandle.data_dir``), and for the others from Kafka's LogDirsCommand
(``orchestrator.execute.log_dirs``), run every ``LOG_DIRS_EVERY_S`` at most; in between the last
answer is repeated.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from orchestrator.errors import RunError, ToolMissingError
from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.execute.base import Component
from orchestrator.execute.log_dirs import Cancelled, LogDirsCommand, refusal
from orchestrator.execute.topics import LIBRDKAFKA_LOG, admin_client, client_config
from orchestrator.plan.models import Plan
from orchestrator.rundir import RunDir

STOP_TIMEOUT_S = 5.0
LOG_DIRS_EVERY_S = 15.0  # a JVM start per call: slower than the other samples


class IostatMonitor(Component):
    name = "iostat"

    def __init__(self, plan: Plan, run: RunDir):
        self.interval = max(1, round(plan.monitors.iostat.interval))
        self.output = run.raw / "iostat" / "localhost.json"
        self._process: subprocess.Popen | None = None
        self._out: IO[bytes] | None = None
        self._binary: str | None = None

    def prepare(self, cluster: Cluster) -> None:
        self._binary = shutil.which("iostat")
        if self._binary is None:
            raise ToolMissingError("iostat not found: apt-get install sysstat")

    def start(self) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._out = self.output.open("wb")
        env = {**os.environ, "S_TIME_FORMAT": "ISO", "LC_ALL": "C"}
        self._process = subprocess.Popen([self._binary or "iostat", "-dxk", "-y", "-t", "-o", "JSON", str(self.interval)],
                                         stdout=self._out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)

    def poll(self) -> bool:
        """True while iostat runs; a monitor that died only leaves a gap (the collector warns)."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._out is not None:
            self._out.close()
            self._out = None


class KafkaAdminMonitor(Component):
    name = "kafka_admin"

    def __init__(self, plan: Plan, run: RunDir):
        self.interval = plan.monitors.kafka_admin.interval
        self.timeout = min(self.interval, 10.0)
        self.output = run.raw / "kafka_admin" / "samples.jsonl"
        self.topics = sorted({t.name for t in plan.topics} | {w.topic for w in plan.workloads if w.topic})
        self.groups = {w.name: w.group or f"orchestrate-{w.name}" for w in plan.workloads if w.kind == "consumer"}
        self._cluster_handle: Cluster | None = None
        self._brokers: list[BrokerHandle] = []
        self._describe: LogDirsCommand | None = None
        self._describe_refused: str | None = None
        self._described_at: float | None = None
        self._described: tuple[dict[str, dict[str, int]], list[str]] = ({}, [])
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prepare(self, cluster: Cluster) -> None:
        client_config(cluster)  # a missing secret fails here, not silently in the thread
        self._cluster_handle = cluster
        self._brokers = list(cluster.brokers)
        if not self._brokers or any(b.data_dir is None for b in self._brokers):
            self._describe_refused = refusal(cluster)
            if self._describe_refused is None:
                try:
                    self._describe = LogDirsCommand(cluster, self.topics)
                except RunError as err:  # no java or no Kafka jars: the run goes on without these sizes
                    self._describe_refused = str(err)

    def start(self) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="kafka-admin-monitor", daemon=True)
        self._thread.start()

    def poll(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._describe is not None:
            self._describe.cancel()
        if self._thread is not None:
            self._thread.join(self.timeout * 5 + STOP_TIMEOUT_S)
            if not self._thread.is_alive():
                self._thread = None

    def _loop(self) -> None:
        # The client lives and is destroyed in this thread: a client left to the garbage collector
        # is destroyed at a random moment, possibly inside a librdkafka thread, which aborts.
        with self.output.open("a", encoding="utf-8") as out:
            try:
                admin = admin_client(self._cluster_handle)
            except Exception as err:  # recorded for the report; the run goes on without samples
                _write(out, {"ts": time.time(), "errors": [f"admin_client: {err}"]})
                return
            with admin:
                while not self._stop.is_set():
                    started = time.monotonic()
                    _write(out, self.sample(admin))
                    self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def sample(self, admin: AdminClient) -> dict:
        """One sample; each part that fails is left out and named in ``errors``."""
        sample: dict = {"ts": time.time(), "errors": []}
        for part in (self._cluster, self._partitions, self._groups, self._log_dirs):
            try:
                part(admin, sample)
            except Exception as err:  # any admin failure is data for the report, never fatal
                sample["errors"].append(f"{part.__name__.lstrip('_')}: {str(err) or type(err).__name__}")
        return sample

    # Cluster and partitions come from metadata requests, which any live broker answers:
    # describe_cluster and describe_topics wait for the broker librdkafka last took for the
    # controller, and time out for as long as that broker is down (a broker fault, exactly when
    # the samples matter).
    def _cluster(self, admin: AdminClient, sample: dict) -> None:
        metadata = admin.list_topics(timeout=self.timeout)
        sample["controller"] = metadata.controller_id if metadata.controller_id >= 0 else None
        sample["brokers"] = sorted(metadata.brokers)

    def _partitions(self, admin: AdminClient, sample: dict) -> None:
        topics = admin.list_topics(timeout=self.timeout).topics
        sample["partitions"] = [
            {"topic": name, "partition": p.id, "leader": p.leader if p.leader >= 0 else None,
             "replicas": list(p.replicas), "isr": list(p.isrs)}
            for name in self.topics if name in topics for p in sorted(topics[name].partitions.values(), key=lambda p: p.id)]
        missing = [name for name in self.topics if name not in topics or topics[name].error is not None]
        if missing:
            raise RunError(f"no metadata for topic(s) {', '.join(missing)}")

    def _groups(self, admin: AdminClient, sample: dict) -> None:
        if "partitions" not in sample:
            return  # the partitions' error is already recorded; lag needs them
        groups = {}
        for workload, group in self.groups.items():
            offsets = self._committed(group, sample["partitions"])
            if not offsets:
                continue
            ends = admin.list_offsets({TopicPartition(t, p): OffsetSpec.latest() for t, p in offsets},
                                            request_timeout=self.timeout)
            lag = {f"{tp.topic}/{tp.partition}": max(0, f.result(self.timeout).offset - offsets[(tp.topic, tp.partition)])
                   for tp, f in ends.items()}
            groups[workload] = {"group": group, "lag": lag}
        sample["groups"] = groups

    def _committed(self, group: str, partitions: list[dict]) -> dict[tuple[str, int], int]:
        """Committed offsets through a consumer of the group that never subscribes (so never joins).
        Not AdminClient.list_consumer_group_offsets: librdkafka crashes the whole process when that
        request meets NOT_COORDINATOR (confluentinc/librdkafka#5040), as while a group starts."""
        consumer = Consumer({**client_config(self._cluster_handle), "group.id": group, "enable.auto.commit": False},
                            logger=LIBRDKAFKA_LOG)
        try:
            wanted = [TopicPartition(p["topic"], p["partition"]) for p in partitions]
            committed = consumer.committed(wanted, timeout=self.timeout) if wanted else []
            return {(tp.topic, tp.partition): tp.offset for tp in committed if tp.offset >= 0}
        finally:
            consumer.close()

    def _log_dirs(self, admin: AdminClient, sample: dict) -> None:
        local = [b for b in self._brokers if b.data_dir is not None]
        sizes = {str(b.node_id): partition_sizes(b.data_dir, self.topics) for b in local}
        sources = ["local"] if local else []
        if self._describe_refused is not None:
            sample["errors"].append(f"log_dirs: {self._describe_refused}")
        elif self._describe is not None:
            described, errors = self._describe_log_dirs()
            if described:
                sources.append("describeLogDirs")
            for broker, partitions in described.items():
                sizes.setdefault(broker, partitions)
            sample["errors"].extend(f"log_dirs: {e}" for e in errors)
        sample["log_dirs"] = sizes if sources else None
        sample["log_dirs_source"] = "+".join(sources) or "unavailable"

    def _describe_log_dirs(self) -> tuple[dict[str, dict[str, int]], list[str]]:
        """LogDirsCommand's answer, asked again once ``LOG_DIRS_EVERY_S`` (at least the interval) has passed."""
        now = time.monotonic()
        if self._described_at is None or now - self._described_at >= max(self.interval, LOG_DIRS_EVERY_S):
            self._described_at = now
            try:
                self._described = self._describe.run()
            except Cancelled:
                pass  # stopped mid-describe: the last answer stands
            except (RunError, OSError) as err:
                self._described = ({}, [str(err)])
        return self._described


def _write(out: IO[str], sample: dict) -> None:
    out.write(json.dumps(sample, separators=(",", ":")) + "\n")
    out.flush()


def partition_sizes(data_dir: Path, topics: list[str]) -> dict[str, int]:
    """Bytes on disk of each "<topic>-<partition>" directory in ``data_dir`` or one level below it."""
    pattern = re.compile(rf"^({'|'.join(re.escape(t) for t in topics)})-\d+$") if topics else None
    sizes: dict[str, int] = {}
    if pattern is None:
        return sizes
    for parent in [data_dir, *(d for d in data_dir.iterdir() if d.is_dir())] if data_dir.is_dir() else []:
        for entry in parent.iterdir():
            if entry.is_dir() and pattern.match(entry.name):
                sizes[entry.name] = sizes.get(entry.name, 0) + _bytes_in(entry)
    return sizes


def _bytes_in(directory: Path) -> int:
    """Sizes of the files in ``directory``; a segment the broker deletes meanwhile counts as 0."""
    total = 0
    for entry in os.scandir(directory):
        try:
            total += entry.stat().st_size if entry.is_file() else 0
        except FileNotFoundError:
            continue
    return total
