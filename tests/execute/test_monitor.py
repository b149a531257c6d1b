import json
import sys
import threading
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.iostat import read_iostat
from orchestrator.collect.kafka_admin import read_admin_samples
from orchestrator.collect.timeline import SeriesKey, TimelineBuilder
from orchestrator.errors import ToolMissingError
from orchestrator.execute import log_dirs, monitor as monitor_module
from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.execute.monitor import IostatMonitor, KafkaAdminMonitor, partition_sizes
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
    monitor = IostatMonitor(_plan(), RunDir(tmp_path))
    with pytest.raises(ToolMissingError, match="apt-get install sysstat"):
        monitor.prepare(Cluster("127.0.0.1:1", [], "4.1.1"))


def test_partition_sizes_sum_the_plan_topics_partition_directories(tmp_path):
    for name, size in (("data/orders-0", 100), ("data/orders-1", 50), ("data/other-0", 999), ("orders-extra-0", 7)):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "00000000000000000000.log").write_bytes(b"x" * size)
    assert partition_sizes(tmp_path, ["orders"]) == {"orders-0": 100, "orders-1": 50}
    assert partition_sizes(tmp_path / "missing", ["orders"]) == {}


def _remote_monitor(tmp_path, monkeypatch, script: str, cluster: Cluster) -> KafkaAdminMonitor:
    """A KafkaAdminMonitor whose LogDirsCommand runs ``script`` (Python) instead of the JVM tool."""
    monkeypatch.setattr(log_dirs, "java_binary", lambda: sys.executable)
    monkeypatch.setattr(log_dirs, "java_classpath", lambda version: str(tmp_path / "*"))
    monitor = KafkaAdminMonitor(_plan(), RunDir(tmp_path))
    monitor.prepare(cluster)
    monitor._describe.command = [sys.executable, "-c", script]
    return monitor


def _log_dirs_sample(monitor: KafkaAdminMonitor) -> dict:
    sample: dict = {"errors": []}
    monitor._log_dirs(None, sample)
    return sample


def test_remote_brokers_log_dirs_come_from_describe_log_dirs_and_local_ones_from_disk(tmp_path, monkeypatch):
    (tmp_path / "data" / "orders-0").mkdir(parents=True)
    (tmp_path / "data" / "orders-0" / "0.log").write_bytes(b"x" * 10)
    answer = {"brokers": [{"broker": b, "logDirs": [{"logDir": "/d", "error": None, "partitions": [
        {"partition": "orders-0", "size": 500, "isFuture": False}]}]} for b in (1, 2)]}
    calls = tmp_path / "calls"
    script = f"open({str(calls)!r}, 'a').write('x'); print('Querying'); print({json.dumps(answer)!r})"
    cluster = Cluster("127.0.0.1:1", [BrokerHandle(1, "localhost", "127.0.0.1:1", data_dir=tmp_path / "data"),
                                      BrokerHandle(2, "kafka-2", "kafka-2:9092")], "4.1.1")
    monkeypatch.setattr(monitor_module, "LOG_DIRS_EVERY_S", 3600.0)
    monitor = _remote_monitor(tmp_path, monkeypatch, script, cluster)
    first, second = _log_dirs_sample(monitor), _log_dirs_sample(monitor)
    assert first == second == {"errors": [], "log_dirs": {"1": {"orders-0": 10}, "2": {"orders-0": 500}},
                               "log_dirs_source": "local+describeLogDirs"}
    assert calls.read_text() == "x"  # the second sample repeats the first answer


def test_a_failing_describe_log_dirs_is_a_sample_error(tmp_path, monkeypatch):
    cluster = Cluster("127.0.0.1:1", [BrokerHandle(1, "kafka-1", "kafka-1:9092")], "4.1.1")
    monitor = _remote_monitor(tmp_path, monkeypatch, "print('not json')", cluster)
    assert _log_dirs_sample(monitor) == {"errors": ["log_dirs: org.apache.kafka.tools.LogDirsCommand: no JSON line in its output"],
                                         "log_dirs": None, "log_dirs_source": "unavailable"}


def test_stopping_mid_describe_keeps_the_last_answer_and_records_no_error(tmp_path, monkeypatch):
    cluster = Cluster("127.0.0.1:1", [BrokerHandle(1, "kafka-1", "kafka-1:9092")], "4.1.1")
    monitor = _remote_monitor(tmp_path, monkeypatch, "import time; time.sleep(60)", cluster)
    threading.Timer(0.5, monitor._describe.cancel).start()
    assert _log_dirs_sample(monitor) == {"errors": [], "log_dirs": None, "log_dirs_source": "unavailable"}


def test_a_cluster_needing_secrets_gets_no_describe_log_dirs_and_says_why(tmp_path):
    cluster = Cluster("127.0.0.1:1", [BrokerHandle(1, "kafka-1", "kafka-1:9092")], "4.1.1",
                      client_config={"security.protocol": "SASL_PLAINTEXT"}, secret_env={"sasl.password": "PATH"})
    monitor = KafkaAdminMonitor(_plan(), RunDir(tmp_path))
    monitor.prepare(cluster)
    sample = _log_dirs_sample(monitor)
    assert sample["log_dirs"] is None and sample["log_dirs_source"] == "unavailable"
    assert sample["errors"] == ["log_dirs: describeLogDirs would need the cluster's secrets in a command-config file"]


def test_missing_java_is_a_sample_error_not_a_failed_prepare(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monitor = KafkaAdminMonitor(_plan(), RunDir(tmp_path))
    monitor.prepare(Cluster("127.0.0.1:1", [BrokerHandle(1, "kafka-1", "kafka-1:9092")], "4.1.1"))
    assert _log_dirs_sample(monitor)["errors"][0].startswith("log_dirs: java not found on PATH")


@pytest.mark.integration
def test_iostat_monitor_writes_json_the_collector_reads_after_a_kill(tmp_path):
    run = RunDir(tmp_path)
    monitor = IostatMonitor(_plan(), run)
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

    monitor = KafkaAdminMonitor(plan, RunDir(tmp_path))
    monitor.prepare(kafka_broker)
    with admin_client(kafka_broker) as admin:
        sample = monitor.sample(admin)
    assert sample["errors"] == []
    assert sample["controller"] is not None and sample["brokers"]
    assert sorted(p["partition"] for p in sample["partitions"]) == [0, 1]
    assert sample["groups"]["in"]["lag"] == {f"{topic_name}/0": 9}
    assert sample["log_dirs_source"] == "local"
    assert sum(next(iter(sample["log_dirs"].values())).values()) > 0

    monitor.start()
    time.sleep(1.5)
    monitor.stop()
    assert not monitor.poll()
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    result = read_admin_samples(monitor.output, builder, diag, 1.0)
    assert result.max_lag == {"in": 9}
    timeline = builder.build()
    assert [v for v in timeline.series[SeriesKey("broker.under_replicated")] if v is not None][0] == 0.0
    assert diag.lines() == []


@pytest.mark.integration
def test_describe_log_dirs_reports_the_size_of_a_produced_to_topic(tmp_path, kafka_broker, topic_name):
    plan = _produced_plan(kafka_broker, topic_name)
    # the same broker seen as a remote one: no data_dir, so LogDirsCommand must answer
    remote = Cluster(kafka_broker.bootstrap_servers, [BrokerHandle(b.node_id, b.host, b.address) for b in kafka_broker.brokers],
                     kafka_broker.kafka_version)
    monitor = KafkaAdminMonitor(plan, RunDir(tmp_path))
    monitor.prepare(remote)
    with admin_client(remote) as admin:
        sample = monitor.sample(admin)
    assert sample["errors"] == []
    assert sample["log_dirs_source"] == "describeLogDirs"
    sizes = sample["log_dirs"][str(kafka_broker.brokers[0].node_id)]
    assert sorted(sizes) == [f"{topic_name}-0", f"{topic_name}-1"]
    assert sum(sizes.values()) > 0


def test_admin_client_failure_is_recorded_as_a_sample_error(tmp_path):
    monitor = KafkaAdminMonitor(_plan(), RunDir(tmp_path))
    monitor.prepare(Cluster("127.0.0.1:1", [], "4.1.1", client_config={"no.such.property": "x"}))
    monitor.start()
    monitor.stop()
    builder, diag = TimelineBuilder(), Diagnostics(tmp_path)
    read_admin_samples(monitor.output, builder, diag, 1.0)
    assert diag.lines() == ["raw/kafka_admin/samples.jsonl: 1 admin sample errors (admin_client) (first at line 1)"]


def test_a_failure_without_a_message_is_named_by_its_type(tmp_path, monkeypatch):
    monitor = KafkaAdminMonitor(_plan(), RunDir(tmp_path))

    def _groups(admin, sample):
        raise TimeoutError()  # str() is empty: the sample must not say only "groups: "

    monkeypatch.setattr(monitor, "_groups", _groups)
    monkeypatch.setattr(monitor, "_cluster", lambda admin, sample: None)
    monkeypatch.setattr(monitor, "_partitions", lambda admin, sample: None)
    monkeypatch.setattr(monitor, "_log_dirs", lambda admin, sample: None)
    assert monitor.sample(None)["errors"] == ["groups: TimeoutError"]
