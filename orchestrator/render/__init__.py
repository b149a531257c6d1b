"""Rendering: Plan ▶ the files apply would run, laid out as in a run directory under ``out``:

    out/rendered/native/<workload>/<instance>.json   native runner specs (orchestrator.render.runner)
    out/rendered/jmeter/<workload>/taurus.yml        one Taurus config per JMeter workload
    out/rendered/jmeter/<workload>/<workload>.jmx    the generated JMeter test plan (producer/consumer)

Bootstrap servers of a cluster that apply starts itself are not known before it runs; render writes
``RUNTIME_BOOTSTRAP`` in their place, and no common start time (apply sets one).
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.plan.models import ExistingTarget, Plan

RUNTIME_BOOTSTRAP = "<bootstrap servers: set at run time>"


def render_plan(plan: Plan, plan_path: Path, out: Path) -> list[Path]:
    # imported here: orchestrator.templating is used by modules these import in turn
    from orchestrator.cluster import Cluster
    from orchestrator.render.runner import runner_specs, spec_path
    from orchestrator.render.workload import render_jmeter_workload
    from orchestrator.rundir import RunDir

    run = RunDir(out)
    bootstrap = plan_bootstrap(plan)
    cluster = Cluster(bootstrap_servers=bootstrap, brokers=[], kafka_version="")
    written: list[Path] = []
    for workload in plan.workloads:
        if workload.engine == "jmeter":
            test = render_jmeter_workload(plan, workload, plan_path, bootstrap, run.jmeter_rendered(workload.name),
                                          artifacts_dir=run.jmeter_artifacts(workload.name))
            written += test.written
            continue
        for spec in runner_specs(plan, workload, cluster, run, start_at=0.0):
            path = spec_path(run, workload.name, spec.instance)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(spec.to_json())
            written.append(path)
    return written


def plan_bootstrap(plan: Plan) -> str:
    target = plan.target
    return ",".join(target.bootstrap_servers) if isinstance(target, ExistingTarget) else RUNTIME_BOOTSTRAP
