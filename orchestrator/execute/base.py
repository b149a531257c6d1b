"""One lifecycle for everything that runs during apply: load engines, monitors and faults.

The pipeline drives every component the same way:
    prepare(cluster) ▶ schedule(start_at) ▶ start() ▶ poll() until it returns False or the schedule ends ▶ stop()
``start_at`` is the epoch second at which the first phase begins, common to every component of a run
and a couple of seconds after ``start()`` so that processes can boot; phase offsets count from it.
``stop`` is idempotent and must leave everything already measured in the run directory, so an
interrupted run still has its raw results.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class BrokerHandle:
    node_id: int
    host: str  # inventory host name, or "localhost"
    address: str  # host:port clients connect to
    pid: int | None = None  # set for brokers this machine runs itself (faults signal it)
    data_dir: Path | None = None
    # the broker's log.dirs when this machine can read them (the monitor lists them for sizes and free space)
    log_dirs: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Cluster:
    """How to reach the cluster under test, whoever started it."""

    bootstrap_servers: str
    brokers: list[BrokerHandle]
    kafka_version: str
    # librdkafka-style client settings without secrets; secrets stay as env-var references
    client_config: dict[str, str] = field(default_factory=dict)
    secret_env: dict[str, str] = field(default_factory=dict)  # client property -> env var name


@dataclass(frozen=True)
class LiveStats:
    """What a running component reports for the progress line."""

    produced_per_s: float = 0.0
    consumed_per_s: float = 0.0
    errors: int = 0


class Component(abc.ABC):
    name: str
    start_at: float | None = None
    # seconds start() needs before its first phase can begin (remote components launch through
    # Ansible); the pipeline schedules the run at least this far ahead, known after prepare()
    lead_s: float = 0.0

    def schedule(self, start_at: float) -> None:
        """Called by the pipeline after ``prepare`` and before ``start``."""
        self.start_at = start_at

    @abc.abstractmethod
    def prepare(self, cluster: Cluster) -> None: ...

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def poll(self) -> bool:
        """True while still running. Raises EngineError when it failed."""

    @abc.abstractmethod
    def stop(self) -> None: ...

    def live_stats(self) -> LiveStats:
        return LiveStats()
