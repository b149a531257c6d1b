"""Shared fixtures. ``kafka_broker`` is one real local KRaft broker for the whole test session;
tests that use it are marked ``integration`` and must create their own uniquely named topics."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from orchestrator.cluster import Cluster
from orchestrator.execute.local_kafka import LocalKafka


@pytest.fixture(scope="session")
def kafka_broker_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    broker = LocalKafka("4.1.1", tmp_path_factory.mktemp("kafka-broker"), heap=512 * 1024**2, properties={})
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_broker(kafka_broker_process: LocalKafka) -> Cluster:
    return kafka_broker_process.cluster()


@pytest.fixture
def topic_name() -> str:
    """A topic name no other test uses."""
    return f"t-{uuid.uuid4().hex[:12]}"
