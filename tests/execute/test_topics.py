from __future__ import annotations

import pytest
from confluent_kafka.admin import ConfigResource

from orchestrator.errors import RunError
from orchestrator.cluster import Cluster
from orchestrator.execute.topics import admin_client, client_config, delete_topics, ensure_topics
from orchestrator.plan.models import Topic


def _partitions(cluster: Cluster, name: str) -> int | None:
    meta = admin_client(cluster).list_topics(timeout=30).topics.get(name)
    return None if meta is None else len(meta.partitions)


def _config(cluster: Cluster, name: str, key: str) -> str:
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    admin = admin_client(cluster)
    return admin.describe_configs([resource])[resource].result(timeout=30)[key].value


def test_secrets_are_read_from_the_environment_when_connecting(monkeypatch) -> None:
    monkeypatch.setenv("MY_PW", "s3cret")
    cluster = Cluster("h:1", [], "4.1.1", client_config={"sasl.username": "u"},
                      secret_env={"sasl.password": "MY_PW"})
    assert client_config(cluster) == {"bootstrap.servers": "h:1", "sasl.username": "u", "sasl.password": "s3cret"}


def test_unset_secret_variable_is_a_run_error(monkeypatch) -> None:
    monkeypatch.delenv("MY_PW", raising=False)
    cluster = Cluster("h:1", [], "4.1.1", secret_env={"sasl.password": "MY_PW"})
    with pytest.raises(RunError, match="MY_PW"):
        client_config(cluster)


@pytest.mark.integration
def test_missing_topic_is_created_with_its_configs(kafka_broker, topic_name) -> None:
    ensure_topics(kafka_broker, [Topic(name=topic_name, partitions=3, retention="1h")])
    assert _partitions(kafka_broker, topic_name) == 3
    assert _config(kafka_broker, topic_name, "retention.ms") == "3600000"


@pytest.mark.integration
def test_matching_topic_verifies(kafka_broker, topic_name) -> None:
    topic = Topic(name=topic_name, partitions=2, cleanup_policy="compact")
    ensure_topics(kafka_broker, [topic])
    ensure_topics(kafka_broker, [topic])
    assert _partitions(kafka_broker, topic_name) == 2


@pytest.mark.integration
def test_verify_names_the_differing_partition_count(kafka_broker, topic_name) -> None:
    ensure_topics(kafka_broker, [Topic(name=topic_name, partitions=2)])
    with pytest.raises(RunError, match=f"topic {topic_name}: has 2 partitions, plan says 4"):
        ensure_topics(kafka_broker, [Topic(name=topic_name, partitions=4)])


@pytest.mark.integration
def test_verify_names_the_differing_config(kafka_broker, topic_name) -> None:
    ensure_topics(kafka_broker, [Topic(name=topic_name, retention="1h")])
    with pytest.raises(RunError, match=f"topic {topic_name}: retention.ms is 3600000, plan says 7200000"):
        ensure_topics(kafka_broker, [Topic(name=topic_name, retention="2h")])


@pytest.mark.integration
def test_recreate_replaces_the_topic(kafka_broker, topic_name) -> None:
    ensure_topics(kafka_broker, [Topic(name=topic_name, partitions=1)])
    ensure_topics(kafka_broker, [Topic(name=topic_name, partitions=3, if_exists="recreate")])
    assert _partitions(kafka_broker, topic_name) == 3


@pytest.mark.integration
def test_use_takes_the_topic_as_it_is(kafka_broker, topic_name) -> None:
    ensure_topics(kafka_broker, [Topic(name=topic_name, partitions=1)])
    ensure_topics(kafka_broker, [Topic(name=topic_name, partitions=5, if_exists="use")])
    assert _partitions(kafka_broker, topic_name) == 1


@pytest.mark.integration
def test_delete_after_removes_only_marked_topics(kafka_broker, topic_name) -> None:
    keep = Topic(name=topic_name + "-keep")
    gone = Topic(name=topic_name, delete_after=True)
    ensure_topics(kafka_broker, [keep, gone])
    delete_topics(kafka_broker, [keep, gone])
    assert _partitions(kafka_broker, gone.name) is None
    assert _partitions(kafka_broker, keep.name) == 1
