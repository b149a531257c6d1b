"""Rendering: Plan ▶ the files apply would run. Pure apart from writing into ``out``.

    out/runner/<workload>-<instance>.json   native runner specs (orchestrator.render.runner)
    out/jmeter/<workload>/taurus.yml        one Taurus config per JMeter workload
    out/jmeter/<workload>/<workload>.jmx    the generated JMeter test plan (producer/consumer workloads)

Bootstrap servers of a cluster apply starts itself are not known before it runs; ``render`` writes
``RUNTIME_BOOTSTRAP`` in their place.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.plan.models import ExistingTarget, Plan

RUNTIME_BOOTSTRAP = "<bootstrap servers: set at run time>"


def render_plan(plan: Plan, plan_path: Path, out: Path) -> list[Path]:
    from orchestrator.render.workload import render_jmeter_workload

    written: list[Path] = []
    bootstrap = plan_bootstrap(plan)
    for workload in plan.workloads:
        if workload.engine == "jmeter":
            test = render_jmeter_workload(plan, workload, plan_path, bootstrap, out / "jmeter" / workload.name,
                                          artifacts_dir=out / "raw" / "jmeter" / workload.name)
            written += test.written
    return written


def plan_bootstrap(plan: Plan) -> str:
    target = plan.target
    return ",".join(target.bootstrap_servers) if isinstance(target, ExistingTarget) else RUNTIME_BOOTSTRAP
