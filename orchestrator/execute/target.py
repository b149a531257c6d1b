"""The plan's target as a running cluster for one run, and its teardown.

``local`` starts an embedded broker in the run directory; ``existing`` is reached through its
bootstrap servers; ``provisioned`` comes from the provisioning helper. Security settings become
librdkafka properties; secrets stay references to environment variables (``Cluster.secret_env``)
that clients read when they connect.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.execute.base import BrokerHandle, Cluster
from orchestrator.execute.local_kafka import LocalKafka
from orchestrator.plan.models import ExistingTarget, LocalTarget, Plan, Security
from orchestrator.provision.ansible import EventSink
from orchestrator.rundir import RunDir


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


@dataclass
class TargetSession:
    """The cluster under test and whatever this run must undo at the end."""

    plan: Plan
    plan_path: Path
    run: RunDir
    on_event: EventSink | None = None  # Ansible task events of provisioning and teardown
    cluster: Cluster | None = None
    local: LocalKafka | None = None

    def open(self) -> Cluster:
        target = self.plan.target
        if isinstance(target, LocalTarget):
            self.local = LocalKafka(target.kafka_version, self.run.broker_dir, target.heap, target.properties)
            self.cluster = self.local.start()
        elif isinstance(target, ExistingTarget):
            self.cluster = existing_cluster(target)
        else:
            from orchestrator.provision import cluster_for

            config, secrets = client_security(target.security)
            provisioned = cluster_for(self.plan, self.plan_path, self.run, self.on_event)
            self.cluster = replace(provisioned, client_config={**provisioned.client_config, **config},
                                   secret_env={**provisioned.secret_env, **secrets})
        return self.cluster

    def close(self, keep_broker: bool) -> str | None:
        """Stop what this run started (a provisioned cluster only when provision.teardown says so);
        with ``keep_broker``, leave it running and return its address."""
        if self.local is not None:
            if keep_broker and self.local.pid is not None:
                return f"{self.local.bootstrap} (pid {self.local.pid})"
            self.local.stop()
        elif self.plan.provision is not None and self.plan.provision.teardown and self.cluster is not None:
            if keep_broker:
                return self.cluster.bootstrap_servers
            from orchestrator.provision import stop

            stop(self.plan, self.plan_path, self.run, self.on_event)
        return None
