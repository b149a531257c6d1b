"""The cluster under test as every stage sees it: its brokers, how clients reach it, its security.

Whoever started the cluster (the local broker, provisioning, or nobody for an existing one) hands
the rest of the run a ``Cluster``. Security settings become librdkafka properties; secrets stay
references to environment variables (``Cluster.secret_env``) that clients read when they connect.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.plan.models import ExistingTarget, Security


@dataclass(frozen=True)
class BrokerHandle:
    node_id: int
    host: str  # inventory host name, or "localhost"
    address: str  # host:port clients connect to
    pid: int | None = None  # set for brokers this machine runs itself (faults signal it)
    data_dir: Path | None = None
    # the broker's log.dirs when this machine can read them (the monitor lists them for sizes and free space)
    log_dirs: tuple[Path, ...] = ()
    jmx: str | None = None  # host:port of its JMX connector, for brokers this tool started


@dataclass(frozen=True)
class Cluster:
    """How to reach the cluster under test, whoever started it."""

    bootstrap_servers: str
    brokers: list[BrokerHandle]
    kafka_version: str
    # librdkafka-style client settings without secrets; secrets stay as env-var references
    client_config: dict[str, str] = field(default_factory=dict)
    secret_env: dict[str, str] = field(default_factory=dict)  # client property -> env var name



def client_security(security: Security) -> tuple[dict[str, str], dict[str, str]]:
    """(librdkafka properties, property ▶ env var of its secret) for ``security``."""
    config = {"security.protocol": security.protocol}
    secrets: dict[str, str] = {}
    if security.sasl is not None:
        config |= {"sasl.mechanism": security.sasl.mechanism, "sasl.username": security.sasl.username}
        secrets["sasl.password"] = security.sasl.password_env
    ssl = security.ssl
    if ssl is not None:
        files = {"ssl.ca.location": ssl.ca_file, "ssl.certificate.location": ssl.cert_file,
                 "ssl.key.location": ssl.key_file, "ssl.keystore.location": ssl.keystore_file}
        config |= {k: v for k, v in files.items() if v is not None}
        config["ssl.endpoint.identification.algorithm"] = "https" if ssl.verify_hostname else "none"
        envs = {"ssl.key.password": ssl.key_password_env, "ssl.keystore.password": ssl.keystore_password_env}
        secrets |= {k: v for k, v in envs.items() if v is not None}
    return config, secrets


def existing_cluster(target: ExistingTarget) -> Cluster:
    config, secrets = client_security(target.security)
    brokers = [BrokerHandle(node_id=i, host=server.rpartition(":")[0] or server, address=server)
               for i, server in enumerate(target.bootstrap_servers)]
    return Cluster(",".join(target.bootstrap_servers), brokers, kafka_version="unknown",
                   client_config=config, secret_env=secrets)


def kraft_cluster_id(uuid_bytes: Callable[[int], bytes]) -> str:
    """A KRaft cluster id: 16 bytes in Kafka's base64url form, drawn again (``uuid_bytes(1)``, 2, ...)
    while the text starts with '-', as Kafka's own Uuid.randomUuid does: kafka-storage would read
    such an id as an option."""
    attempt = 0
    while (text := base64.urlsafe_b64encode(uuid_bytes(attempt)).decode().rstrip("=")).startswith("-"):
        attempt += 1
    return text
