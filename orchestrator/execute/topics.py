"""Make the plan's topics exist as declared, through the Kafka admin API.

A missing topic is created. A present one is handled by its ``if_exists``: ``verify`` fails on the
first differing setting (partitions, replication factor, or a declared config), ``recreate``
deletes it and creates it afresh, ``use`` takes it as it is.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from orchestrator.errors import BrokerError, RunError
from orchestrator.cluster import Cluster
from orchestrator.plan.models import Topic

ADMIN_TIMEOUT_S = 30.0

# librdkafka's own log lines (connection refused while a broker restarts ...) stay off the terminal
LIBRDKAFKA_LOG = logging.getLogger("orchestrator.librdkafka")
LIBRDKAFKA_LOG.addHandler(logging.NullHandler())
LIBRDKAFKA_LOG.propagate = False


def client_config(cluster: Cluster) -> dict[str, str]:
    """librdkafka settings for ``cluster`` with secrets read from their environment variables now."""
    config = {"bootstrap.servers": cluster.bootstrap_servers, **cluster.client_config}
    for prop, env in cluster.secret_env.items():
        value = os.environ.get(env)
        if value is None:
            raise RunError(f"environment variable {env} (for {prop}) is not set")
        config[prop] = value
    return config


def admin_client(cluster: Cluster) -> AdminClient:
    """An AdminClient whose librdkafka log lines stay out of the terminal."""
    return AdminClient({**client_config(cluster), "socket.timeout.ms": "10000"}, logger=LIBRDKAFKA_LOG)


def ensure_topics(cluster: Cluster, topics: Sequence[Topic]) -> None:
    admin = admin_client(cluster)
    existing = _existing(admin, cluster)
    for topic in topics:
        if topic.name not in existing:
            _create(admin, topic)
        elif topic.if_exists == "verify":
            _verify(admin, topic, existing[topic.name])
        elif topic.if_exists == "recreate":
            _delete(admin, [topic.name])
            _create(admin, topic)


def delete_topics(cluster: Cluster, topics: Sequence[Topic]) -> None:
    """Delete the topics marked ``delete_after`` (at teardown)."""
    names = [t.name for t in topics if t.delete_after]
    if names:
        _delete(admin_client(cluster), names)


def _existing(admin: AdminClient, cluster: Cluster) -> dict[str, tuple[int, int]]:
    """Topic name ▶ (partitions, replication factor)."""
    try:
        metadata = admin.list_topics(timeout=ADMIN_TIMEOUT_S)
    except KafkaException as err:
        raise BrokerError(f"cannot list topics on {cluster.bootstrap_servers}: {err.args[0]}") from None
    out = {}
    for name, meta in metadata.topics.items():
        replicas = len(meta.partitions[0].replicas) if meta.partitions else 0
        out[name] = (len(meta.partitions), replicas)
    return out


def _create(admin: AdminClient, topic: Topic) -> None:
    new = NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=topic.replication_factor,
                   config=topic.kafka_configs())
    future = admin.create_topics([new], operation_timeout=ADMIN_TIMEOUT_S)[topic.name]
    try:
        future.result(timeout=ADMIN_TIMEOUT_S)
    except KafkaException as err:
        raise RunError(f"topic {topic.name}: create failed: {err.args[0].str()}") from None
    _wait(admin, topic.name, lambda meta: meta is not None and len(meta.partitions) == topic.partitions
          and all(p.leader >= 0 for p in meta.partitions.values()), "to get partition leaders")


def _delete(admin: AdminClient, names: list[str]) -> None:
    for name, future in admin.delete_topics(names, operation_timeout=ADMIN_TIMEOUT_S).items():
        try:
            future.result(timeout=ADMIN_TIMEOUT_S)
        except KafkaException as err:
            raise RunError(f"topic {name}: delete failed: {err.args[0].str()}") from None
        _wait(admin, name, lambda meta: meta is None, "to disappear")


def _wait(admin: AdminClient, name: str, done, what: str) -> None:
    deadline = time.monotonic() + ADMIN_TIMEOUT_S
    while time.monotonic() < deadline:
        if done(admin.list_topics(timeout=ADMIN_TIMEOUT_S).topics.get(name)):
            return
        time.sleep(0.2)
    raise RunError(f"topic {name}: timed out after {ADMIN_TIMEOUT_S:.0f}s waiting {what}")


def _verify(admin: AdminClient, topic: Topic, actual: tuple[int, int]) -> None:
    partitions, replicas = actual
    if partitions != topic.partitions:
        raise RunError(f"topic {topic.name}: has {partitions} partitions, plan says {topic.partitions} "
                       "(set if_exists: recreate or use)")
    if replicas != topic.replication_factor:
        raise RunError(f"topic {topic.name}: has replication factor {replicas}, plan says "
                       f"{topic.replication_factor} (set if_exists: recreate or use)")
    wanted = topic.kafka_configs()
    if not wanted:
        return
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic.name)
    try:
        configs = admin.describe_configs([resource])[resource].result(timeout=ADMIN_TIMEOUT_S)
    except KafkaException as err:
        raise RunError(f"topic {topic.name}: describe configs failed: {err.args[0].str()}") from None
    for key, value in wanted.items():
        have = configs[key].value if key in configs else None
        if have != value:
            raise RunError(f"topic {topic.name}: {key} is {have}, plan says {value} "
                           "(set if_exists: recreate or use)")
