import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.iostat import read_iostat
from orchestrator.collect.kafka_admin import TopicLayout, read_admin_samples
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder
from orchestrator.errors import RunError, ToolMissingError
from orchestrator.execute import monitor as monitor_module
from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.execute.log_dirs import LogDir
from orchestrator.execute.monitor import (MIN_CALL_S, LocalIostat, KafkaAdminSampler, ListedLogDir, SegmentLedger,
                                          list_log_dir)
from orchestrator.execute.topics import admin_client, ensure_topics
from orchestrator.plan.models import Plan
from orchestrator.rundir import RunDir


def _plan(topic: str = "orders", interval: float = 1.0) -> Plan:
    return Plan.model_validate({
        "metadata": {"name": "monitor-test"},
        "topics": [{"name": topic, "partitions": 2}],
        "workloads": [{"name": "out", "kind": "producer", "topic": topic},
                      {"name": "in", "kind": "consumer", "topic": topic}],
        "phases": [{"name": "s", "kind": "steady", "duration": "10s"}],
        "monitors": {"iostat": {"interval": 1}, "kafka_admin": {"interval": interval}},
    })


def test_iostat_missing_is_a_tool_missing_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monitor = LocalIostat(_plan(), RunDir(tmp_path))
    with pytest.raises(ToolMissingError, match="apt-get install sysstat"):
        monitor.prepare(Cluster("127.0.0.1:1", [], "4.1.1"))


def _segment(directory, base: int, size: int, index: int = 0) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{base:020d}.log").write_bytes(b"x" * size)
    with open(directory / f"{base:020d}.index", "wb") as f:
        f.write(b"i" * index)
        f.truncate(10 * 1024**2)  # preallocated the way Kafka does: sparse beyond what it wrote


def test_listing_a_log_dir_counts_file_sizes_sparse_indexes_by_blocks_and_segments(tmp_path):
    _segment(tmp_path / "orders-0", 0, 5000, index=4096)
    _segment(tmp_path / "orders-0", 10, 5000)
    _segment(tmp_path / "orders-1", 0, 100)
    _segment(tmp_path / "other-0", 0, 9999)
    _segment(tmp_path / "orders-extra-0", 0, 7)
    listed = list_log_dir(tmp_path, ["orders"])
    assert sorted(listed.partitions) == ["orders-0", "orders-1"]
    assert 10000 <= listed.partitions["orders-0"] < 10000 + 1024**2  # not 2 x 10 MiB of preallocated index
    assert listed.partitions["orders-1"] < 1024**2
    assert listed.segments == {"orders-0": frozenset({0, 10}), "orders-1": frozenset({0})}
    assert listed.usable_bytes > 0 and listed.total_bytes >= listed.usable_bytes and listed.device
    assert list_log_dir(tmp_path / "missing", ["orders"]) == ListedLogDir({}, {})


def test_the_ledger_counts_segments_that_are_gone_as_deleted(tmp_path):
    ledger = SegmentLedger()
    first = ListedLogDir({}, {"orders-0": frozenset({0, 10, 20}), "orders-1": frozenset({0})})
    later = ListedLogDir({}, {"orders-0": frozenset({20, 30}), "orders-1": frozenset({0, 5})})
    assert ledger.see("1", [first]) == {"count": 4, "deleted": 0}
    assert ledger.see("1", [later]) == {"count": 4, "deleted": 2}
    assert ledger.see("1", [later]) == {"count": 4, "deleted": 2}


def _log_dirs_sample(monitor: KafkaAdminSampler, partitions: list[dict] | None = None) -> dict:
    sample: dict = {"errors": [], **({"partitions": partitions} if partitions else {})}
    monitor._log_dirs(None, sample)
    return sample


def test_listed_brokers_come_from_disk_and_the_others_from_describe_log_dirs(tmp_path, monkeypatch):
    _segment(tmp_path / "data" / "orders-0", 0, 10)
    asked = []

    def describe(address, topics, timeout):
        asked.append((address, topics))
        return [LogDir("/d", {"orders-0": 500}, 1000, 400), LogDir("/bad", error="KAFKA_STORAGE_ERROR")]

    monkeypatch.setattr(monitor_module, "describe_log_dirs", describe)
    cluster = Cluster("127.0.0.1:1", [BrokerHandle(1, "localhost", "127.0.0.1:1", log_dirs=(tmp_path / "data",)),
                                      BrokerHandle(2, "kafka-2", "kafka-2:9092")], "4.1.1")
    monitor = KafkaAdminSampler(_plan(), RunDir(tmp_path))
    monitor.prepare(cluster)
    monitor._addresses = {"1": "127.0.0.1:1", "2": "kafka-2:9092"}
    sample = _log_dirs_sample(monitor, [{"topic": "orders", "partition": 0}, {"topic": "orders", "partition": 1}])
    assert asked == [("kafka-2:9092", {"orders": [0, 1]})]
    assert sample["log_dirs"]["2"] == {"orders-0": 500} and sample["log_dirs"]["1"]["orders-0"] > 0
    (local,) = sample["log_dir_space"]["1"]
    assert local["dir"] == str(tmp_path / "data") and local["device"] is not None and local["usable"] > 0
    assert sample["log_dir_space"]["2"] == [{"dir": "/d", "total": 1000, "usable": 400, "device": None}]
    assert sample["segments"] == {"1": {"count": 1, "deleted": 0}}
    assert sample["log_dirs_source"] == "local+describeLogDirs"
    assert sample["errors"] == ["log_dirs: broker 2 /bad: KAFKA_STORAGE_ERROR"]


def test_a_broker_that_does_not_answer_describe_log_dirs_is_a_sample_error(tmp_path, monkeypatch):
    def describe(address, topics, timeout):
        raise RunError(f"describeLogDirs {address}: cannot connect: refused")

    monkeypatch.setattr(monitor_module, "describe_log_dirs", describe)
    monitor = KafkaAdminSampler(_plan(), RunDir(tmp_path))
    monitor.prepare(Cluster("127.0.0.1:1", [BrokerHandle(1, "kafka-1", "kafka-1:9092")], "4.1.1"))
    monitor._addresses = {"1": "kafka-1:9092"}
    assert _log_dirs_sample(monitor) == {
        "errors": ["log_dirs: broker 1: describeLogDirs kafka-1:9092: cannot connect: refused"],
        "log_dirs": None, "log_dir_space": None, "log_dirs_source": "unavailable"}


def test_a_cluster_needing_secrets_gets_no_describe_log_dirs_and_says_why(tmp_path):
    cluster = Cluster("127.0.0.1:1", [BrokerHandle(1, "kafka-1", "kafka-1:9092")], "4.1.1",
                      client_config={"security.protocol": "SASL_PLAINTEXT"}, secret_env={"sasl.password": "PATH"})
    monitor = KafkaAdminSampler(_plan(), RunDir(tmp_path))
    monitor.prepare(cluster)
    monitor._addresses = {"1": "kafka-1:9092"}
    sample = _log_dirs_sample(monitor)
    assert sample["log_dirs"] is None and sample["log_dirs_source"] == "unavailable"
    assert sample["errors"] == ["log_dirs: describeLogDirs would need the cluster's secrets"]


@pytest.mark.integration
def test_iostat_monitor_writes_json_the_collector_reads_after_a_kill(tmp_path):
    run = RunDir(tmp_path)
    monitor = LocalIostat(_plan(), run)
    monitor.prepare(Cluster("127.0.0.1:1", [], "4.1.1"))
    monitor.start()
    deadline = time.monotonic() + 15
    while monitor.poll() and time.monotonic() < deadline and monitor.output.read_text().count('"timestamp"') < 2:
        time.sleep(0.2)
    monitor.stop()
    monitor.stop()
    assert not monitor.poll()
    diag = Diagnostics(tmp_path)
    samples = list(read_iostat(monitor.output, diag))
    assert len({s.ts for s in samples}) >= 2
    assert all(s.util is not None and s.w_per_s is not None for s in samples)
    assert not [w for w in diag.lines() if "unknown" in w or "corrupt" in w]


def _produced_plan(cluster: Cluster, topic: str) -> Plan:
    """The plan for ``topic``, created with 10 messages of 100 bytes in each of its 2 partitions."""
    plan = _plan(topic)
    ensure_topics(cluster, plan.topics)
    producer = Producer({"bootstrap.servers": cluster.bootstrap_servers})
    for i in range(20):
        producer.produce(topic, value=b"x" * 100, partition=i % 2)
    assert producer.flush(30) == 0
    return plan


@pytest.mark.integration
def test_kafka_admin_monitor_samples_partitions_lag_and_log_dirs(tmp_path, kafka_broker, topic_name):
    plan = _produced_plan(kafka_broker, topic_name)
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap_servers, "group.id": "orchestrate-in",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic_name, 0, 0)])
    message = None
    for _ in range(50):
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            break
    consumer.commit(message=message, asynchronous=False)
    consumer.close()

    monitor = KafkaAdminSampler(plan, RunDir(tmp_path))
    monitor.prepare(kafka_broker)
    with admin_client(kafka_broker) as admin:
        sample, again = monitor.sample(admin), monitor.sample(admin)
    assert sample["errors"] == []
    assert sample["controller"] is not None and sample["brokers"]
    assert sample["quorum_leader"] == kafka_broker.brokers[0].node_id  # the broker is its own controller
    assert sorted(p["partition"] for p in sample["partitions"]) == [0, 1]
    assert sample["groups"]["in"]["lag"] == {f"{topic_name}/0": 9}
    assert sample["log_dirs_source"] == "local"
    assert sum(next(iter(sample["log_dirs"].values())).values()) > 0
    assert next(iter(sample["log_dir_space"].values()))[0]["usable"] > 0
    assert sample["configs"]["topics"][topic_name]["cleanup.policy"] == "delete"
    assert "log.retention.check.interval.ms" in next(iter(sample["configs"]["brokers"].values()))
    assert "configs" not in again  # recorded once a run

    monitor.start()
    time.sleep(1.5)
    monitor.stop()
    assert not monitor.poll()
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    result = read_admin_samples(monitor.output, builder, diag, 1.0)
    assert result.cluster.topics[topic_name] == TopicLayout(2, 1, {str(kafka_broker.brokers[0].node_id): 2})
    timeline = builder.build()
    assert [v for v in timeline.series[SeriesKey("broker.under_replicated")] if v is not None][0] == 0.0
    committed = [v for s in timeline.select("consume.committed_lag", workload="in").values() for v in s if v is not None]
    assert max(committed) == 9.0
    assert diag.lines() == []


@pytest.mark.integration
def test_describe_log_dirs_reports_the_size_of_a_produced_to_topic(tmp_path, kafka_broker, topic_name):
    plan = _produced_plan(kafka_broker, topic_name)
    # the same broker seen as a remote one: no log dirs to list, so DescribeLogDirs must answer
    remote = Cluster(kafka_broker.bootstrap_servers, [BrokerHandle(b.node_id, b.host, b.address) for b in kafka_broker.brokers],
                     kafka_broker.kafka_version)
    monitor = KafkaAdminSampler(plan, RunDir(tmp_path))
    monitor.prepare(remote)
    with admin_client(remote) as admin:
        sample = monitor.sample(admin)
    assert sample["errors"] == []
    assert sample["log_dirs_source"] == "describeLogDirs"
    sizes = sample["log_dirs"][str(kafka_broker.brokers[0].node_id)]
    assert sorted(sizes) == [f"{topic_name}-0", f"{topic_name}-1"]
    assert sum(sizes.values()) > 0
    (space,) = sample["log_dir_space"][str(kafka_broker.brokers[0].node_id)]
    assert 0 < space["usable"] <= space["total"]  # Kafka 4.x answers DescribeLogDirs v4


def test_admin_client_failure_is_recorded_as_a_sample_error(tmp_path):
    monitor = KafkaAdminSampler(_plan(), RunDir(tmp_path))
    monitor.prepare(Cluster("127.0.0.1:1", [], "4.1.1", client_config={"no.such.property": "x"}))
    monitor.start()
    monitor.stop()
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    read_admin_samples(monitor.output, builder, diag, 1.0)
    assert diag.lines() == ["raw/kafka_admin/samples.jsonl: 1 admin sample errors (admin_client) (first at line 1)"]


class _Clock:
    """The monitor's clock, which moves only when a test says a call waited."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now


def _only(monitor: KafkaAdminSampler, monkeypatch, **parts) -> _Clock:
    """The monitor's sample made of ``parts`` (name -> fake), every other part doing nothing."""
    for name in ("_cluster", "_quorum", "_partitions", "_groups", "_log_dirs", "_configs"):
        monkeypatch.setattr(monitor, name, parts.get(name.lstrip("_"), lambda admin, sample: None))
    clock = _Clock()
    monkeypatch.setattr(monitor_module, "time", clock)
    return clock


def test_a_failure_without_a_message_says_what_happened(tmp_path, monkeypatch):
    monitor = KafkaAdminSampler(_plan(interval=5), RunDir(tmp_path))

    def groups(admin, sample):
        monitor._timeout()
        raise TimeoutError()  # a future's result(): str() is empty, the sample must not say only "groups: "

    def configs(admin, sample):
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker 2 down"))

    _only(monitor, monkeypatch, groups=groups, configs=configs)
    assert monitor.sample(None)["errors"] == ["groups: no answer within 4.5s", "configs: broker 2 down"]


def test_a_call_that_hangs_costs_the_sample_its_budget_not_the_schedule(tmp_path, monkeypatch):
    """After a broker kill every call may wait for its timeout: each waits only what is left of
    the sample's budget, and the parts after it still run, with almost no time."""
    monitor = KafkaAdminSampler(_plan(interval=5), RunDir(tmp_path))
    given = []

    def groups(admin, sample):  # errors are named after the part
        given.append(monitor._timeout())
        clock.now += given[-1]  # the call waited all it was given
        raise TimeoutError()

    def log_dirs(admin, sample):
        given.append(monitor._timeout())
        sample["log_dirs"] = {}

    clock = _only(monitor, monkeypatch, groups=groups, log_dirs=log_dirs)
    sample = monitor.sample(None)
    assert monitor.budget == 4.5 and given == [4.5, MIN_CALL_S]
    assert sample["log_dirs"] == {} and sample["errors"] == ["groups: no answer within 4.5s"]
