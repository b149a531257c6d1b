"""What both roles share: the librdkafka configuration, the stop flag, and the runner's error type."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

from confluent_kafka import KafkaException

from orchestrator.runner.spec import RunnerSpec


# librdkafka's log lines come through here during poll(), in the main thread, so they never follow
# the runner's own one-line error message on stderr (__main__ attaches the handler)
LOG = logging.getLogger("orchestrator.runner.librdkafka")


class RunnerError(Exception):
    """The runner could not do its job (broker unreachable, topic missing, bad payload file)."""


@dataclass
class StopFlag:
    """Set by the SIGINT/SIGTERM handler; the load loops check it at least every few milliseconds.

    A producer stops at the first signal. A consumer drains at the first (what was acknowledged
    before it is still to be read: the orchestrator stops producers first) and stops at the second."""

    signals: int = 0

    @property
    def requested(self) -> bool:
        return self.signals > 0

    @property
    def urgent(self) -> bool:
        return self.signals > 1


def client_config(spec: RunnerSpec, defaults: dict[str, str]) -> dict[str, str]:
    """defaults < the spec's client_config < secrets read from the environment now."""
    config = {**defaults, **spec.client_config, "bootstrap.servers": spec.bootstrap_servers}
    for prop, env in spec.secret_env.items():
        value = os.environ.get(env)
        if value is None:
            raise RunnerError(f"environment variable {env} (for {prop}) is not set")
        config[prop] = value
    return config


def wait_until(deadline_ns: int, stop: StopFlag, serve) -> bool:
    """Wait for the wall clock to reach ``deadline_ns`` while serving client callbacks; False if stopped."""
    while not stop.requested:
        remaining = deadline_ns - time.time_ns()
        if remaining <= 0:
            return True
        if remaining >= 1_000_000:  # the clients' poll() waits in whole milliseconds, rounded down
            serve(min(remaining, 100_000_000) / 1e9)
        else:
            time.sleep(remaining / 1e9)
    return False


def topic_partitions(client, topic: str, timeout_s: float) -> int:
    """Number of partitions of ``topic``; RunnerError when no broker answers in time or it does not exist."""
    try:
        metadata = client.list_topics(topic, timeout=timeout_s)
    except KafkaException as e:
        raise RunnerError(f"no broker answered within {timeout_s:g}s: {e.args[0].str()}") from None
    info = metadata.topics.get(topic)
    if info is None or info.error is not None or not info.partitions:
        reason = info.error.str() if info is not None and info.error is not None else "no partitions"
        raise RunnerError(f"topic {topic!r} is not usable: {reason}")
    return len(info.partitions)


def start_token(spec: RunnerSpec) -> str:
    """The commit metadata by which a consumer of this run says where it starts reading, followed by
    its instance number: producers of the run wait for it before they send (``orchestrator.runner.groups``)."""
    return f"orchestrate start_at={spec.start_at!r} instance="
