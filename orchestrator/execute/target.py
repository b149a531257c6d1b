"""The plan's target as a running cluster for one run, and its teardown.

``local`` starts an embedded broker in the run directory; ``existing`` is reached through its
bootstrap servers; ``provisioned`` comes from the provisioning helper.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.cluster import Cluster, client_security, existing_cluster
from orchestrator.execute.lifeline import untagged
from orchestrator.execute.local_kafka import LocalKafka
from orchestrator.plan.models import ExistingTarget, LocalTarget, Plan
from orchestrator.remote.ansible import EventSink
from orchestrator.rundir import RunDir


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
            self.local = LocalKafka(target.kafka_version, self.run.broker_dir, target.heap, target.properties,
                                    jmx=self.plan.monitors.jmx.enabled)
            self.cluster = self.local.start()
        elif isinstance(target, ExistingTarget):
            self.cluster = existing_cluster(target)
        else:
            from orchestrator.provision import cluster_for

            config, secrets = client_security(target.security)
            # a cluster kept after the run (teardown: false) must outlive even an apply that dies
            keep = self.plan.provision is None or not self.plan.provision.teardown
            with untagged() if keep else nullcontext():
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
