"""Taurus YAML for one JMeter workload: a generated Kafka JMX or an existing script.

Each JMeter workload gets its own bzt process and its own YAML, so properties and load settings
never leak between workloads. The offline recipe (docs/jmeter.md) is fixed in the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.artifacts.jmeter import DEFAULT_VERSION, NO_UDP_LISTENER
from orchestrator.templating import render_template

SHUTDOWN_WAIT_CYCLES = 2  # bzt check intervals to wait for JMeter after a stop request


@dataclass(frozen=True)
class TaurusConfig:
    workload: str
    script: Path
    artifacts_dir: Path
    jmeter: Path  # the launcher script (bzt looks for bin/jmeter.sh when given a directory)
    properties: dict[str, str] = field(default_factory=dict)
    modifications: dict[str, object] = field(default_factory=dict)
    load: dict[str, object] = field(default_factory=dict)  # concurrency, ramp-up, hold-for, iterations
    jmeter_version: str = DEFAULT_VERSION
    distributed: tuple[str, ...] = ()  # jmeter-server host:port endpoints; empty: JMeter runs the test here
    system_properties: dict[str, str] = field(default_factory=dict)  # -D for the controller JMeter
    keep_listeners: bool = False  # the plan's own listeners write results too (bzt disables them by default)


def render_taurus(config: TaurusConfig) -> str:
    return render_template(
        "taurus.yml.j2", workload=config.workload, script=str(config.script),
        artifacts_dir=str(config.artifacts_dir), jmeter=str(config.jmeter),
        jmeter_version=config.jmeter_version, properties=config.properties,
        modifications=config.modifications, load=config.load, distributed=list(config.distributed),
        system_properties=config.system_properties,
        keep_listeners=config.keep_listeners, shutdown_wait=SHUTDOWN_WAIT_CYCLES, cmdline=NO_UDP_LISTENER)
