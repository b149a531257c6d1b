"""An existing JMX (a ``kind: script`` workload) prepared to run against the plan's target.

The JMX itself is never changed: bootstrap servers and topic are overridden through JMeter
properties (where the script reads ``${__P()}``) or Taurus ``set-prop`` modifications (where a
sampler field holds a literal); threads, ramp-up and duration through Taurus load settings. Plugin
jars join a per-workload JMeter overlay (symlinks to the shared JMeter plus the plugins), and every
class the plan needs is checked against that overlay before anything runs.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import ToolMissingError
from orchestrator.jmeter.analysis import Analysis, analyze
from orchestrator.artifacts.jmeter import ensure_jmeter
from orchestrator.jmeter.jmx import parse_jmx
from orchestrator.jmeter.plugins import PluginJars, classes_in, missing_class_hint, resolve_plugins
from orchestrator.plan.models import Plan, ScriptWorkload

OVERLAY = "jmeter-home"


@dataclass(frozen=True)
class PreparedScript:
    script: Path
    jmeter_home: Path
    properties: dict[str, str]
    modifications: dict[str, object]
    load: dict[str, object]
    written: list[Path]


def prepare_script(plan: Plan, workload: ScriptWorkload, plan_path: Path, bootstrap: str, out: Path) -> PreparedScript:
    script = (plan_path.parent / workload.script).resolve()
    analysis = analyze(parse_jmx(script))
    home = ensure_jmeter()
    jars = resolve_plugins(workload.plugins, plan_path.parent)
    if jars.plugin or jars.dependencies:
        home = build_overlay(home, jars, out / OVERLAY)
    check_classes(analysis, home, workload.name)
    properties, set_prop = target_overrides(analysis, bootstrap, workload.topic)
    properties |= {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in workload.jmeter_properties.items()}
    user_set_prop = workload.modifications.get("set-prop", {})
    modifications = {**workload.modifications, "set-prop": {**set_prop, **(user_set_prop if isinstance(user_set_prop, dict) else {})}}
    return PreparedScript(script=script, jmeter_home=home, properties=properties,
                          modifications={k: v for k, v in modifications.items() if v}, load=load_settings(plan, workload),
                          written=[])


def target_overrides(analysis: Analysis, bootstrap: str, topic: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """(JMeter properties, Taurus set-prop) that point the script at ``bootstrap`` and ``topic``."""
    values = {"brokers": bootstrap, "topic": topic}
    properties: dict[str, str] = {}
    set_prop: dict[str, str] = {}
    for override in analysis.overrides:
        value = values[override.what]
        if value is None:
            continue
        (properties if override.via == "property" else set_prop)[override.key] = value
    return properties, set_prop


def load_settings(plan: Plan, workload: ScriptWorkload) -> dict[str, object]:
    load: dict[str, object] = {"hold-for": f"{workload.duration or plan.total_duration:g}s"}
    if "instances" in workload.model_fields_set:
        load["concurrency"] = workload.instances
    if workload.ramp_up is not None:
        load["ramp-up"] = f"{workload.ramp_up:g}s"
    return load


def check_classes(analysis: Analysis, home: Path, workload: str) -> None:
    if not analysis.required:
        return
    jars = sorted(home.glob("lib/*.jar")) + sorted(home.glob("lib/ext/*.jar"))
    available = classes_in(jars)
    for needed in analysis.required:
        if needed.name not in available:
            raise ToolMissingError(f"{analysis.jmx.path}:{needed.line}: {missing_class_hint(needed.name, workload)}")


def build_overlay(base: Path, jars: PluginJars, overlay: Path) -> Path:
    """A JMeter home of symlinks to ``base`` plus the plugin jars. JMeter takes its home from where
    bin/ApacheJMeter.jar is (possibly resolving links), so that one jar is a real copy."""
    for sub in ("bin", "lib", "lib/ext", "lib/junit"):
        (overlay / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("bin", "lib", "lib/ext"):
        for item in (base / sub).iterdir():
            if item.name == "ApacheJMeter.jar":
                shutil.copy2(item, overlay / sub / item.name)
            elif item.is_file() or sub == "bin":
                _link(item, overlay / sub / item.name)
    taken = {_artifact(p.name) for p in (overlay / "lib").glob("*.jar")} | {_artifact(p.name) for p in (overlay / "lib" / "ext").glob("*.jar")}
    for jar in jars.plugin:
        _link(jar, overlay / "lib" / "ext" / jar.name)
    for jar in jars.dependencies:
        if _artifact(jar.name) not in taken:  # JMeter's own copy of a library wins over the plugin's
            _link(jar, overlay / "lib" / jar.name)
    return overlay


def _link(target: Path, link: Path) -> None:
    if link.is_symlink() or link.exists():
        if link.is_symlink() and Path(os.readlink(link)) == target:
            return
        link.unlink()
    link.symlink_to(target)


def _artifact(jar_name: str) -> str:
    """``kafka-clients-4.1.1.jar`` ▶ ``kafka-clients``."""
    stem = jar_name.removesuffix(".jar")
    parts = stem.split("-")
    while len(parts) > 1 and parts[-1][:1].isdigit():
        parts.pop()
    return "-".join(parts)
