"""Helpers for runner tests: a minimal valid spec as a dict, to be varied per test."""

from __future__ import annotations

import pytest

from orchestrator.execute.topics import ensure_topics
from orchestrator.plan.models import Topic


@pytest.fixture
def spec_dict(tmp_path) -> dict:
    return {
        "workload": "w", "instance": 0, "role": "producer", "host": "localhost",
        "bootstrap_servers": "127.0.0.1:9092", "topic": "t", "output": str(tmp_path / "out.jsonl"),
        "start_at": 1_700_000_000.0,
        "schedule": [{"name": "steady", "kind": "steady", "duration_s": 5, "rate_from": 100, "rate_to": 100}],
    }


@pytest.fixture
def make_topic(kafka_broker, topic_name):
    """Create a fresh topic with the given number of partitions on the session broker."""

    def make(partitions: int = 1) -> str:
        ensure_topics(kafka_broker, [Topic(name=topic_name, partitions=partitions)])
        return topic_name

    return make
