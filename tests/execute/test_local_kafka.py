from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer

from orchestrator.errors import BrokerError, ToolMissingError
from orchestrator.artifacts import kafka as kafka_dist
from orchestrator.execute.local_kafka import LocalKafka, random_cluster_id
from orchestrator.templating import render_template


def test_server_properties_bind_loopback_only() -> None:
    text = render_template("server.properties.j2", node_id=1, broker_port=1111, controller_port=2222,
                           log_dir="/d", properties={"num.partitions": "3"})
    assert "listeners=PLAINTEXT://127.0.0.1:1111,CONTROLLER://127.0.0.1:2222" in text
    assert "num.partitions=3\n" in text


def test_jmx_binds_loopback_only_and_only_when_asked(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("orchestrator.execute.local_kafka.java_classpath", lambda version: "libs/*")
    for jmx in (False, True):
        broker = LocalKafka("4.1.1", tmp_path, heap=1024**3, properties={}, jmx=jmx)
        broker.jmx_port = 4444
        flags = [a for a in broker._java("kafka.Kafka", "server.properties", heap_mb=256, broker=True) if "jmxremote" in a]
        assert ("-Dcom.sun.management.jmxremote.host=127.0.0.1" in flags) == jmx
        assert ("-Dcom.sun.management.jmxremote.port=4444" in flags) == jmx
        assert (broker.cluster().brokers[0].jmx == "127.0.0.1:4444") == jmx


def test_plan_properties_override_defaults(tmp_path) -> None:
    broker = LocalKafka("4.1.1", tmp_path, heap=1024**3, properties={"num.partitions": 6, "log.cleaner.enable": False})
    assert broker.properties["num.partitions"] == "6"
    assert broker.properties["log.cleaner.enable"] == "false"
    assert broker.heap_mb == 1024


def test_cluster_id_is_a_kafka_uuid() -> None:
    cid = random_cluster_id()
    assert len(cid) == 22 and not cid.startswith("-")


def test_kafka_home_without_jars_is_a_tool_error(tmp_path, monkeypatch) -> None:
    (tmp_path / "libs").mkdir()
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path))
    with pytest.raises(ToolMissingError, match="KAFKA_HOME"):
        kafka_dist.kafka_libs("4.1.1")


def test_kafka_home_libs_are_used_as_is(tmp_path, monkeypatch) -> None:
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "kafka_2.13-4.1.1.jar").write_bytes(b"")
    monkeypatch.setenv("KAFKA_HOME", str(tmp_path))
    assert kafka_dist.kafka_libs("4.1.1") == tmp_path / "libs"


def test_missing_mvn_names_the_fix(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    monkeypatch.delenv("ORCHESTRATE_KAFKA_TARBALL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError, match="mvn not found"):
        kafka_dist.kafka_libs("4.1.1")


def test_tarball_libs_are_unpacked_into_the_cache(tmp_path, monkeypatch) -> None:
    import tarfile

    src = tmp_path / "kafka_2.13-9.9.9" / "libs"
    src.mkdir(parents=True)
    (src / "kafka_2.13-9.9.9.jar").write_bytes(b"jar")
    with tarfile.open(tmp_path / "k.tgz", "w:gz") as tar:
        tar.add(tmp_path / "kafka_2.13-9.9.9", arcname="kafka_2.13-9.9.9")
    monkeypatch.delenv("KAFKA_HOME", raising=False)
    monkeypatch.setenv("ORCHESTRATE_KAFKA_TARBALL", str(tmp_path / "k.tgz"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    libs = kafka_dist.kafka_libs("9.9.9")
    assert (libs / "kafka_2.13-9.9.9.jar").read_bytes() == b"jar"
    assert (libs / kafka_dist.MARKER).exists()


@pytest.mark.integration
def test_broker_round_trips_a_message(kafka_broker, topic_name) -> None:
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers})
    producer.produce(topic_name, b"hello")
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap_servers, "group.id": topic_name,
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic_name])
    msg = None
    for _ in range(60):
        msg = consumer.poll(1.0)
        if msg is not None and msg.error() is None:
            break
    consumer.close()
    assert msg is not None and msg.value() == b"hello"


@pytest.mark.integration
def test_broker_keeps_its_data_and_logs_in_its_directory(kafka_broker) -> None:
    handle = kafka_broker.brokers[0]
    assert handle.address.startswith("127.0.0.1:") and handle.pid
    assert (handle.data_dir / "logs" / "server.log").stat().st_size > 0
    assert (handle.data_dir / "data" / "meta.properties").exists()


@pytest.mark.integration
def test_bad_property_fails_with_the_log_line(tmp_path) -> None:
    broker = LocalKafka("4.1.1", tmp_path, heap=256 * 1024**2, properties={"num.io.threads": "zero"})
    with pytest.raises(BrokerError, match="num.io.threads|storage format"):
        broker.start()
    broker.stop()
