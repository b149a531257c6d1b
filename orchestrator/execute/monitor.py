"""Monitors that run beside the load: iostat on this machine, and Kafka admin samples.

``LocalIostat`` runs ``iostat -dxk -y -t -o JSON <interval>`` (ISO timestamps, C locale) into
raw/iostat/localhost.json until stopped; the collector reads the complete entries of the JSON a
killed iostat leaves behind. Remote hosts are monitored by the provisioning playbooks with the same
command and read by the same parser.

``KafkaAdminSampler`` samples the cluster from a background thread every
``monitors.kafka_admin.interval`` into raw/kafka_admin/samples.jsonl (format: see
``orchestrator.collect.kafka_admin``). A sample keeps to the schedule: it has ``budget`` seconds
(90 % of the interval, at least ``MIN_BUDGET_S``) and every admin call waits at most what is left
of them: a broker that went down makes calls wait for their timeout, exactly when the samples
matter. A part that fails is named in the sample's ``errors`` with why; the sample is written with
what was obtained and sampling goes on. Log-dir sizes and free space come from listing the
broker's log dirs for the brokers whose ``BrokerHandle.log_dirs`` this machine sees (the local
target, provisioned brokers with ``connection: local``), and from Kafka's DescribeLogDirs
(``orchestrator.execute.log_dirs``) for every other broker. The active controller is the leader of
the metadata quorum (``orchestrator.execute.quorum``), not Metadata's controller id. The topics'
effective configs and the brokers' clean-up settings are recorded once, in the first sample that
could read them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ClusterMetadata, ConfigResource, OffsetSpec, ResourceType

from orchestrator.errors import RunError, ToolMissingError
from orchestrator.cluster import Cluster
from orchestrator.execute.base import Component
from orchestrator.execute.lifeline import on_parent_death
from orchestrator.execute.log_dirs import describe_log_dirs, refusal
from orchestrator.execute.quorum import quorum_leader
from orchestrator.execute.topics import LIBRDKAFKA_LOG, admin_client, client_config
from orchestrator.plan.models import ConsumerWorkload, Plan
from orchestrator.rundir import RunDir

STOP_TIMEOUT_S = 5.0
MIN_BUDGET_S = 3.0  # a 1 s interval still leaves a sample time for a round trip to each broker
MIN_CALL_S = 0.1


class LocalIostat(Component):
    name = "iostat"

    def __init__(self, plan: Plan, run: RunDir):
        self.interval = max(1, round(plan.monitors.iostat.interval))
        self.output = run.raw_iostat / "localhost.json"
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
                                         stdout=self._out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env,
                                         preexec_fn=on_parent_death())

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


class KafkaAdminSampler(Component):
    name = "kafka_admin"

    def __init__(self, plan: Plan, run: RunDir):
        self.interval = plan.monitors.kafka_admin.interval
        self.timeout = min(self.interval, 10.0)  # any one admin call
        self.budget = max(0.9 * self.interval, MIN_BUDGET_S)  # one sample, all its calls
        self._deadline = 0.0  # monotonic end of the sample being taken
        self._call_timeout = self.timeout  # the last bound handed to a call, for its error text
        self._metadata: ClusterMetadata | None = None  # this sample's
        self.output = run.admin_samples
        self.topics = sorted({t.name for t in plan.topics} | {w.topic for w in plan.workloads if w.topic})
        self.groups = {w.name: w.group_id for w in plan.workloads if isinstance(w, ConsumerWorkload)}
        self._cluster_handle: Cluster | None = None
        self._local: dict[str, tuple[Path, ...]] = {}  # broker id -> log dirs this machine lists
        self._describe_refused: str | None = None
        self._addresses: dict[str, str] = {}  # broker id -> host:port, from the last metadata
        self._segments = SegmentLedger()
        self._configs_recorded = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prepare(self, cluster: Cluster) -> None:
        client_config(cluster)  # a missing secret fails here, not silently in the thread
        self._cluster_handle = cluster
        self._local = {str(b.node_id): b.log_dirs for b in cluster.brokers if b.log_dirs}
        self._describe_refused = refusal(cluster)

    def start(self) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="kafka-admin-monitor", daemon=True)
        self._thread.start()

    def poll(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.budget + STOP_TIMEOUT_S)
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
        """One sample within about ``budget``; each part that fails is left out and named in
        ``errors`` with why. Once the budget is spent every call gets only ``MIN_CALL_S``: what
        needs no round trip (listed log dirs) or is answered at once still counts."""
        sample: dict = {"ts": time.time(), "errors": []}
        self._deadline = time.monotonic() + self.budget
        self._metadata = None
        for part in (self._cluster, self._quorum, self._partitions, self._groups, self._log_dirs, self._configs):
            try:
                part(admin, sample)
            except Exception as err:  # any admin failure is data for the report, never fatal
                sample["errors"].append(f"{part.__name__.lstrip('_')}: {error_text(err, self._call_timeout)}")
        return sample

    def _timeout(self) -> float:
        """What the next admin call may wait: its own bound, cut to what is left of the sample's."""
        self._call_timeout = round(max(MIN_CALL_S, min(self.timeout, self._deadline - time.monotonic())), 1)
        return self._call_timeout

    # Cluster and partitions come from one metadata request, which any live broker answers:
    # describe_cluster and describe_topics wait for the broker librdkafka last took for the
    # controller, and time out for as long as that broker is down (a broker fault, exactly when
    # the samples matter).
    def _cluster(self, admin: AdminClient, sample: dict) -> None:
        metadata = self._metadata = admin.list_topics(timeout=self._timeout())
        sample["controller"] = metadata.controller_id if metadata.controller_id >= 0 else None
        sample["brokers"] = sorted(metadata.brokers)
        self._addresses = {str(i): f"{b.host}:{b.port}" for i, b in metadata.brokers.items()}

    def _quorum(self, admin: AdminClient, sample: dict) -> None:
        """The active controller, which Metadata does not name under KRaft: the leader of the
        metadata quorum, asked of the brokers the last metadata listed until one answers."""
        if self._describe_refused is not None or not self._addresses:
            return
        failures = []
        for broker in sorted(self._addresses, key=lambda b: (len(b), b)):
            try:
                sample["quorum_leader"] = quorum_leader(self._addresses[broker], self._timeout())
                return
            except RunError as err:
                failures.append(str(err))
        raise RunError("; ".join(failures))

    def _partitions(self, admin: AdminClient, sample: dict) -> None:
        if self._metadata is None:
            return  # the cluster part's error is already recorded
        topics = self._metadata.topics
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
                                      request_timeout=self._timeout())
            lag = {f"{tp.topic}/{tp.partition}": max(0, f.result(self._timeout()).offset - offsets[(tp.topic, tp.partition)])
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
            committed = consumer.committed(wanted, timeout=self._timeout()) if wanted else []
            return {(tp.topic, tp.partition): tp.offset for tp in committed if tp.offset >= 0}
        finally:
            consumer.close()

    def _log_dirs(self, admin: AdminClient, sample: dict) -> None:
        """Sizes and disk space per broker: listed from disk for the brokers whose log dirs this
        machine sees, asked of the others with DescribeLogDirs."""
        sizes: dict[str, dict[str, int]] = {}
        space: dict[str, list[dict]] = {}
        sources = []
        for broker, dirs in self._local.items():
            listed = [list_log_dir(d, self.topics) for d in dirs]
            sizes[broker] = _merged([d.partitions for d in listed])
            space[broker] = [{"dir": str(path), "total": d.total_bytes, "usable": d.usable_bytes, "device": d.device}
                             for path, d in zip(dirs, listed) if d.total_bytes is not None]
            sample.setdefault("segments", {})[broker] = self._segments.see(broker, listed)
            sources = ["local"]
        remote = sorted(set(self._addresses) - set(self._local), key=lambda b: (len(b), b))
        if remote and self._describe_refused is not None:
            sample["errors"].append(f"log_dirs: {self._describe_refused}")
        elif remote:
            wanted = _partitions_by_topic(sample.get("partitions"))
            for broker in remote:
                try:
                    dirs = describe_log_dirs(self._addresses[broker], wanted, self._timeout())
                except RunError as err:  # a broker that is down: its series get a gap
                    sample["errors"].append(f"log_dirs: broker {broker}: {err}")
                    continue
                sizes[broker] = _merged([d.partitions for d in dirs if d.error is None])
                space[broker] = [{"dir": d.path, "total": d.total_bytes, "usable": d.usable_bytes, "device": None}
                                 for d in dirs if d.error is None and d.total_bytes is not None]
                sample["errors"].extend(f"log_dirs: broker {broker} {d.path}: {d.error}" for d in dirs if d.error)
                if "describeLogDirs" not in sources:
                    sources.append("describeLogDirs")
        sample["log_dirs"] = sizes if sources else None
        sample["log_dir_space"] = space if sources else None
        sample["log_dirs_source"] = "+".join(sources) or "unavailable"

    def _configs(self, admin: AdminClient, sample: dict) -> None:
        """The topics' effective retention configs and the brokers' clean-up timing, once a run."""
        if self._configs_recorded or not self.topics:
            return
        topics = {t: _described(admin, ConfigResource(ResourceType.TOPIC, t), TOPIC_CONFIGS, self._timeout())
                  for t in self.topics}
        brokers = {}
        for broker in sample.get("brokers") or []:
            try:
                brokers[str(broker)] = _described(admin, ConfigResource(ResourceType.BROKER, str(broker)),
                                                   BROKER_CONFIGS, self._timeout())
            except (KafkaException, TimeoutError) as err:  # a broker that is down now; the topics' configs still count
                sample["errors"].append(f"configs: broker {broker}: {error_text(err, self._call_timeout)}")
        sample["configs"] = {"topics": topics, "brokers": brokers}
        self._configs_recorded = True


# what the disk projection needs: what retention keeps, and how soon deleted segments leave the disk
TOPIC_CONFIGS = ("cleanup.policy", "retention.ms", "retention.bytes", "segment.bytes", "segment.ms",
                 "file.delete.delay.ms", "compression.type")
BROKER_CONFIGS = ("log.retention.check.interval.ms", "log.segment.delete.delay.ms")


def _described(admin: AdminClient, resource: ConfigResource, keys: tuple[str, ...], timeout: float) -> dict[str, str]:
    entries = admin.describe_configs([resource], request_timeout=timeout)[resource].result(timeout)
    return {k: entries[k].value for k in keys if k in entries and entries[k].value is not None}


def error_text(err: BaseException, timeout: float) -> str:
    """What went wrong, never empty: a KafkaException's str() is often empty or a repr of its
    KafkaError, a future's TimeoutError says nothing at all."""
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
        return err.args[0].str() or err.args[0].name()
    if isinstance(err, TimeoutError):
        return f"no answer within {timeout:g}s"
    return str(err) or repr(err)


def _partitions_by_topic(partitions: list[dict] | None) -> dict[str, list[int]] | None:
    if not partitions:
        return None
    out: dict[str, list[int]] = {}
    for p in partitions:
        out.setdefault(p["topic"], []).append(int(p["partition"]))
    return out


def _merged(parts: list[dict[str, int]]) -> dict[str, int]:
    """Sizes of one broker's partitions summed over its log dirs (a replica being moved is in two)."""
    out: dict[str, int] = {}
    for part in parts:
        for name, size in part.items():
            out[name] = out.get(name, 0) + size
    return out


def _write(out: IO[str], sample: dict) -> None:
    out.write(json.dumps(sample, separators=(",", ":")) + "\n")
    out.flush()


SEGMENT = re.compile(r"^(\d{20})\.log$")
SPARSE_INDEXES = (".index", ".timeindex")


@dataclass(frozen=True)
class ListedLogDir:
    partitions: dict[str, int]  # "<topic>-<partition>" -> bytes of its files (see ``list_log_dir``)
    segments: dict[str, frozenset[int]]  # "<topic>-<partition>" -> base offsets of its .log segments
    total_bytes: int | None = None  # of the file system; None when the dir does not exist (yet)
    usable_bytes: int | None = None
    device: str | None = None  # the file system's device number: log dirs on one disk share its space


def list_log_dir(log_dir: Path, topics: list[str]) -> ListedLogDir:
    """The plan topics' partition directories in one of a broker's log dirs."""
    pattern = re.compile(rf"^({'|'.join(re.escape(t) for t in topics)})-\d+$") if topics else None
    sizes: dict[str, int] = {}
    segments: dict[str, frozenset[int]] = {}
    try:
        entries = list(os.scandir(log_dir))
        stat, disk = os.stat(log_dir), os.statvfs(log_dir)
    except FileNotFoundError:
        return ListedLogDir({}, {})
    for entry in entries:
        if pattern is not None and entry.is_dir() and pattern.match(entry.name):
            sizes[entry.name], segments[entry.name] = _partition_dir(entry.path)
    return ListedLogDir(sizes, segments, disk.f_blocks * disk.f_frsize, disk.f_bavail * disk.f_frsize, str(stat.st_dev))


def _partition_dir(path: str) -> tuple[int, frozenset[int]]:
    """Bytes of one partition's files and its segments' base offsets. Files count their size, not
    their blocks (blocks are allocated when the page cache is written back, up to half a minute
    later), except the index files Kafka preallocates sparsely (10 MiB for the active segment),
    which count the blocks they occupy. A file the broker deletes meanwhile counts as absent."""
    total, bases = 0, set()
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return 0, frozenset()
    for entry in entries:
        try:
            info = entry.stat()
        except FileNotFoundError:
            continue
        if not entry.is_file():
            continue
        total += min(info.st_size, info.st_blocks * 512) if entry.name.endswith(SPARSE_INDEXES) else info.st_size
        if match := SEGMENT.match(entry.name):
            bases.add(int(match.group(1)))
    return total, frozenset(bases)


class SegmentLedger:
    """Segments per broker, and how many have gone since the first sample: a segment whose base
    offset is no longer listed was deleted (by retention, or replaced by the log cleaner)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], frozenset[int]] = {}
        self._deleted: dict[str, int] = {}

    def see(self, broker: str, listed: list[ListedLogDir]) -> dict[str, int]:
        now: dict[str, frozenset[int]] = {}
        for d in listed:
            for partition, bases in d.segments.items():
                now[partition] = now.get(partition, frozenset()) | bases
        gone = sum(len(self._seen.get((broker, p), frozenset()) - bases) for p, bases in now.items())
        self._deleted[broker] = self._deleted.get(broker, 0) + gone
        self._seen.update({(broker, p): bases for p, bases in now.items()})
        return {"count": sum(len(b) for b in now.values()), "deleted": self._deleted[broker]}
