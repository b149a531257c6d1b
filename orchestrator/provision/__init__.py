"""Provisioning through Ansible: ``provision``/``destroy`` for the CLI, ``cluster_for`` for apply.

Per-plan state lives where ``orchestrator.remote.playbooks.state_dir`` says, so ``destroy`` finds
what an earlier ``provision`` or ``apply`` started.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from orchestrator.artifacts.bundles import jmeter_home_archive, kafka_libs_archive, runner_archive
from orchestrator.cluster import BrokerHandle, Cluster
from orchestrator.errors import ProvisionError
from orchestrator.plan.models import Plan
from orchestrator.remote.ansible import EventSink, TaskEvent
from orchestrator.remote.playbooks import HostPlaybooks, state_dir
from orchestrator.remote.inventory import jmx_port, node_log_dirs
from orchestrator.rundir import RunDir


def _install_vars(p: HostPlaybooks) -> dict[str, object]:
    out: dict[str, object] = {"orchestrate_wipe": p.settings.wipe}
    if p.settings.install_source == "maven":
        out["kafka_libs_archive"] = str(kafka_libs_archive(p.settings.kafka_version))
    if p.layout().agents:
        from orchestrator.artifacts.wheels import wheelhouse

        out.update(agent_runner_archive=str(runner_archive()), agent_wheelhouse=str(wheelhouse()))
    if any(w.engine == "jmeter" and w.agents for w in p.plan.workloads):
        from orchestrator.artifacts.jmeter import ensure_jmeter

        out["agent_jmeter_archive"] = str(jmeter_home_archive(ensure_jmeter()))  # unpacked in <agent data_dir>/agent/jmeter
    return out


def _partial_report(done: dict[str, list[str]], failed: str, hosts: list[str]) -> str:
    reached = [h for h in hosts if h in done and h != failed]
    untouched = [h for h in hosts if h not in done and h != failed]
    return (f"partial provisioning: {failed} failed; tasks completed on {', '.join(reached) or 'no other host'}"
            f"{'; not reached: ' + ', '.join(untouched) if untouched else ''}; everything was torn down")


def _provision(p: HostPlaybooks, ident: str) -> None:
    """Runs provision.yml; when a host fails, tears every host down and says who got how far."""
    done: dict[str, list[str]] = {}
    failures: list[TaskEvent] = []

    def record(event: TaskEvent) -> None:
        if event.status in ("ok", "changed"):
            done.setdefault(event.host, []).append(event.task)
        if event.status in ("failed", "unreachable"):
            failures.append(event)
        if p.on_event is not None:
            p.on_event(event)

    try:
        replace(p, on_event=record).run("provision.yml", ident, _install_vars(p))
    except ProvisionError as err:
        p.run("teardown.yml", f"{ident}-rollback", {"orchestrate_wipe": True}, tolerate_failures=True)
        message = failures[0].message if failures else str(err)
        hosts = [h.name for h in p.plan.inventory.hosts] if p.plan.inventory else []
        raise ProvisionError(err.host, err.task, f"{message} ({_partial_report(done, err.host, hosts)})") from None


def provision(plan: Plan, plan_path: Path, on_event: EventSink | None = None) -> str:
    p = HostPlaybooks(plan, plan_path, state_dir(plan) / "ansible", on_event)
    lay = p.layout()
    _provision(p, "provision")
    return (f"provisioned {len(lay.nodes)} Kafka node(s) and {len(lay.agents)} agent(s) for {plan.metadata.name!r}; "
            f"bootstrap servers {lay.bootstrap_servers}")


def destroy(plan: Plan, plan_path: Path, on_event: EventSink | None = None) -> str:
    p = HostPlaybooks(plan, plan_path, state_dir(plan) / "ansible", on_event)
    result = p.run("teardown.yml", "destroy", {"orchestrate_wipe": True}, tolerate_failures=True)
    skipped = sorted({f.host for f in result.failures})
    return (f"destroyed {plan.metadata.name!r}: stopped and removed Kafka, agents and monitors"
            + (f"; could not reach or clean: {', '.join(skipped)}" if skipped else ""))


def stop(plan: Plan, plan_path: Path, run: RunDir, on_event: EventSink | None = None) -> None:
    """apply's teardown: stop the cluster (data stays until ``destroy``, or goes with provision.wipe)."""
    p = HostPlaybooks(plan, plan_path, run.ansible_dir, on_event)
    p.run("teardown.yml", "teardown", {"orchestrate_wipe": p.settings.wipe}, tolerate_failures=True)


def running_cluster(plan: Plan, plan_path: Path, ansible_dir: Path, on_event: EventSink | None = None) -> Cluster:
    """The handle of the plan's cluster as it runs now (status.yml only, nothing installed), with
    ansible-runner's files in ``ansible_dir``."""
    p = HostPlaybooks(plan, plan_path, ansible_dir, on_event)
    lay = p.layout()
    status = p.run("status.yml", "status")
    brokers = []
    for node in lay.brokers:
        pid = str(status.facts.get(node.host.name, {}).get("kafka_pid", "")).strip()
        local = node.host.connection == "local"
        brokers.append(BrokerHandle(node.node_id, node.host.name, node.bootstrap,
                                    int(pid) if local and pid.isdigit() else None,
                                    Path(node.home) / "kafka" if local else None,
                                    tuple(Path(d) for d in node_log_dirs(node, p.settings)) if local else (),
                                    f"{node.host.address}:{port}" if (port := jmx_port(plan, node)) else None))
    return Cluster(lay.bootstrap_servers, brokers, p.settings.kafka_version)


def cluster_for(plan: Plan, plan_path: Path, run: RunDir, on_event: EventSink | None = None) -> Cluster:
    """The provisioned cluster's handle, provisioning it first when the plan has a provision section."""
    if plan.provision is not None:
        _provision(HostPlaybooks(plan, plan_path, run.ansible_dir, on_event), "provision")
    return running_cluster(plan, plan_path, run.ansible_dir, on_event)
