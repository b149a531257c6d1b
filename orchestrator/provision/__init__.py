"""Provisioning through Ansible: ``provision``/``destroy`` for the CLI, ``cluster_for`` for apply.

Per-plan state (the hosts' data when they are this machine, ssh known_hosts, ansible-runner
artifacts of provision/destroy) lives in ``${XDG_STATE_HOME:-~/.local/state}/orchestrate/<plan>``,
so ``destroy`` finds what an earlier ``provision`` or ``apply`` started.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.archive import digest, source_files, tar_once
from orchestrator.errors import PlanError, PlanIssue, ProvisionError
from orchestrator.execute.base import BrokerHandle, Cluster
from orchestrator.plan.models import Plan, Provision
from orchestrator.provision.ansible import EventSink, PlaybookJob, PlaybookResult, TaskEvent, run_playbook
from orchestrator.provision.inventory import Layout, LayoutError, ansible_inventory, layout, node_log_dirs
from orchestrator.rundir import RunDir

RUNNER_SRC = Path(__file__).resolve().parents[1] / "runner"


def state_dir(plan: Plan) -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "orchestrate" / plan.metadata.name


@dataclass(frozen=True)
class Provisioner:
    """Everything one plan's playbook runs share: inventory, layout and where artifacts go."""

    plan: Plan
    plan_path: Path
    private_data_dir: Path
    on_event: EventSink | None = None

    @property
    def state(self) -> Path:
        return state_dir(self.plan)

    @property
    def settings(self) -> Provision:
        return self.plan.provision or Provision()

    def layout(self) -> Layout:
        try:
            return layout(self.plan, self.state)
        except LayoutError as err:
            raise PlanError([PlanIssue(str(self.plan_path), 1, 1, "inventory", str(err))]) from None

    def _inventory(self) -> dict[str, object]:
        self.layout()
        self.state.mkdir(parents=True, exist_ok=True)
        return ansible_inventory(self.plan, self.plan_path.parent.resolve(), self.state)

    def run(self, playbook: str, ident: str, extravars: dict[str, object] | None = None,
            tolerate_failures: bool = False) -> PlaybookResult:
        return run_playbook(playbook, self.private_data_dir, self._inventory(), extravars or {}, ident,
                            self.on_event, tolerate_failures)

    def start(self, playbook: str, ident: str, extravars: dict[str, object],
              answers: dict[str, str] | None = None) -> PlaybookJob:
        """``run`` in the background; ``answers`` reply to the playbook's prompts (see run_playbook)."""
        return PlaybookJob(playbook, self.private_data_dir, self._inventory(), extravars, ident, self.on_event,
                           answers=answers)


def _libs_archive(version: str) -> Path:
    """One tar of the Maven-resolved jars, unpacked on every host."""
    from orchestrator.cache import cache_dir
    from orchestrator.execute.kafka_dist import kafka_libs

    jars = sorted(kafka_libs(version).glob("*.jar"))
    return tar_once(cache_dir("kafka") / version / "libs.tar", ((jar, jar.name) for jar in jars))


def runner_archive() -> Path:
    """The native runner's sources (it imports nothing else of orchestrator), named by their digest."""
    from orchestrator.cache import cache_dir

    files = source_files(RUNNER_SRC)
    return tar_once(cache_dir("agent") / f"runner-{digest(files, RUNNER_SRC)}.tar",
                    ((f, f"runner/{f.relative_to(RUNNER_SRC)}") for f in files))


def _install_vars(p: Provisioner) -> dict[str, object]:
    out: dict[str, object] = {"orchestrate_wipe": p.settings.wipe}
    if p.settings.install_source == "maven":
        out["kafka_libs_archive"] = str(_libs_archive(p.settings.kafka_version))
    if p.layout().agents:
        from orchestrator.provision.wheels import wheelhouse

        out.update(agent_runner_archive=str(runner_archive()), agent_wheelhouse=str(wheelhouse()))
    if any(w.engine == "jmeter" and w.agents for w in p.plan.workloads):
        from orchestrator.jmeter.install import ensure_jmeter
        from orchestrator.jmeter.servers import home_archive

        out["agent_jmeter_archive"] = str(home_archive(ensure_jmeter()))  # unpacked in <agent data_dir>/agent/jmeter
    return out


def _partial_report(done: dict[str, list[str]], failed: str, hosts: list[str]) -> str:
    reached = [h for h in hosts if h in done and h != failed]
    untouched = [h for h in hosts if h not in done and h != failed]
    return (f"partial provisioning: {failed} failed; tasks completed on {', '.join(reached) or 'no other host'}"
            f"{'; not reached: ' + ', '.join(untouched) if untouched else ''}; everything was torn down")


def _provision(p: Provisioner, ident: str) -> None:
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
    p = Provisioner(plan, plan_path, state_dir(plan) / "ansible", on_event)
    lay = p.layout()
    _provision(p, "provision")
    return (f"provisioned {len(lay.nodes)} Kafka node(s) and {len(lay.agents)} agent(s) for {plan.metadata.name!r}; "
            f"bootstrap servers {lay.bootstrap_servers}")


def destroy(plan: Plan, plan_path: Path, on_event: EventSink | None = None) -> str:
    p = Provisioner(plan, plan_path, state_dir(plan) / "ansible", on_event)
    result = p.run("teardown.yml", "destroy", {"orchestrate_wipe": True}, tolerate_failures=True)
    skipped = sorted({f.host for f in result.failures})
    return (f"destroyed {plan.metadata.name!r}: stopped and removed Kafka, agents and monitors"
            + (f"; could not reach or clean: {', '.join(skipped)}" if skipped else ""))


def stop(plan: Plan, plan_path: Path, run: RunDir, on_event: EventSink | None = None) -> None:
    """apply's teardown: stop the cluster (data stays until ``destroy``, or goes with provision.wipe)."""
    p = Provisioner(plan, plan_path, run.ansible_dir, on_event)
    p.run("teardown.yml", "teardown", {"orchestrate_wipe": p.settings.wipe}, tolerate_failures=True)


def running_cluster(plan: Plan, plan_path: Path, run: RunDir, on_event: EventSink | None = None) -> Cluster:
    """The handle of the plan's cluster as it runs now (status.yml only, nothing installed)."""
    p = Provisioner(plan, plan_path, run.ansible_dir, on_event)
    lay = p.layout()
    status = p.run("status.yml", "status")
    brokers = []
    for node in lay.brokers:
        pid = str(status.facts.get(node.host.name, {}).get("kafka_pid", "")).strip()
        local = node.host.connection == "local"
        brokers.append(BrokerHandle(node.node_id, node.host.name, node.bootstrap,
                                    int(pid) if local and pid.isdigit() else None,
                                    Path(node.home) / "kafka" if local else None,
                                    tuple(Path(d) for d in node_log_dirs(node, p.settings)) if local else ()))
    return Cluster(lay.bootstrap_servers, brokers, p.settings.kafka_version)


def cluster_for(plan: Plan, plan_path: Path, run: RunDir, on_event: EventSink | None = None) -> Cluster:
    """The provisioned cluster's handle, provisioning it first when the plan has a provision section."""
    if plan.provision is not None:
        _provision(Provisioner(plan, plan_path, run.ansible_dir, on_event), "provision")
    return running_cluster(plan, plan_path, run, on_event)
