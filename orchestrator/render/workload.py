"""One JMeter workload ▶ its files: the test plan (generated, or the user's script) and its Taurus YAML.

Shared by ``orchestrate render`` and ``TaurusWorkload.prepare`` so that what render shows is what
apply runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.render.distributed import distributed_config, distribution
from orchestrator.artifacts.jmeter import jmeter_home, launcher
from orchestrator.plan.models import ConsumerWorkload, ExistingTarget, Plan, ProducerWorkload, ProvisionedTarget, Security, Workload
from orchestrator.render.jmx import render_kafka_jmx
from orchestrator.render.taurus import TaurusConfig, render_taurus
from orchestrator.rundir import MESSAGES_JTL

TAURUS_FILE = "taurus.yml"


@dataclass(frozen=True)
class JmeterTest:
    config: TaurusConfig
    taurus_file: Path
    written: list[Path]

    def with_properties(self, extra: dict[str, str]) -> "JmeterTest":
        """The same test with more JMeter properties; rewrites the YAML."""
        config = replace(self.config, properties={**self.config.properties, **extra})
        self.taurus_file.write_text(render_taurus(config))
        return replace(self, config=config)


def render_jmeter_workload(plan: Plan, workload: Workload, plan_path: Path, bootstrap: str, out: Path,
                           artifacts_dir: Path) -> JmeterTest:
    out.mkdir(parents=True, exist_ok=True)
    dist = distribution(plan, workload)
    if isinstance(workload, (ProducerWorkload, ConsumerWorkload)):
        generated = render_kafka_jmx(plan, workload, bootstrap, target_security(plan), len(dist.servers) if dist else 1)
        script = out / f"{workload.name}.jmx"
        script.write_text(generated.jmx)
        props = generated.properties
        if generated.per_message:
            props = {**props, "orchestrate.messages_jtl": str(artifacts_dir.resolve() / MESSAGES_JTL)}
        config = TaurusConfig(workload=workload.name, script=script.resolve(), artifacts_dir=artifacts_dir.resolve(),
                              jmeter=launcher(jmeter_home()), properties=props, keep_listeners=generated.per_message)
        written = [script]
    else:
        from orchestrator.jmeter.script import prepare_script

        prepared = prepare_script(plan, workload, plan_path, bootstrap, out)
        config = TaurusConfig(workload=workload.name, script=prepared.script, artifacts_dir=artifacts_dir.resolve(),
                              jmeter=launcher(prepared.jmeter_home), properties=prepared.properties,
                              modifications=prepared.modifications, load=prepared.load)
        written = prepared.written
    if dist is not None:
        config = distributed_config(config, dist)
    taurus_file = out / TAURUS_FILE
    taurus_file.write_text(render_taurus(config))
    return JmeterTest(config=config, taurus_file=taurus_file, written=[*written, taurus_file])


def target_security(plan: Plan) -> Security:
    target = plan.target
    return target.security if isinstance(target, (ExistingTarget, ProvisionedTarget)) else Security()
