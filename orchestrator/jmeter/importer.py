"""``orchestrate import-jmx``: what an existing JMeter Kafka test does, and a plan snippet to run it.

Secret values (passwords, JAAS lines, keystore passwords) are only ever reported as present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from orchestrator.jmeter.analysis import JSR223, Analysis, KafkaElement, analyze, display_value, resolve, script_imports
from orchestrator.jmeter.jmx import parse_jmx
from orchestrator.jmeter.plugins import family_of
from orchestrator.plan.models import NAME_PATTERN

_THREAD_FIELDS = (("threads", "ThreadGroup.num_threads"), ("ramp-up s", "ThreadGroup.ramp_time"),
                  ("loops", "LoopController.loops"), ("duration s", "ThreadGroup.duration"))
_TIMER_FIELDS = ("throughput", "calcMode", "ConstantTimer.delay", "RandomTimer.range", "duration", "throughputPeriod")


@dataclass(frozen=True)
class ImportReport:
    analysis: Analysis

    def render(self) -> str:
        a = self.analysis
        lines = [f"{a.jmx.path}: {len(a.jmx.elements)} test elements, {len(a.jmx.thread_groups)} thread groups"]
        lines += self._kafka_section() + self._plugin_section() + self._properties_section()
        lines += self._thread_group_section() + self._timer_section() + self._override_section()
        lines += ["", "Plan snippet (a script workload; adjust the plugins entries):", "", self.snippet()]
        return "\n".join(lines)

    def _kafka_section(self) -> list[str]:
        a = self.analysis
        if not a.kafka:
            return ["", "Kafka elements: none detected"]
        out = ["", f"Kafka elements ({len(a.kafka)}):"]
        for item in a.kafka:
            e = item.element
            where = f' in thread group "{e.thread_group}"' if e.thread_group else ""
            state = "" if e.enabled else " [disabled]"
            out.append(f'  line {e.line}: {item.family} {item.role} "{e.name}" ({e.java_class or e.testclass}){where}{state}')
            out += self._settings(item)
        return out

    def _settings(self, item: KafkaElement) -> list[str]:
        variables = self.analysis.variables
        out = []
        for label, value in (("brokers", item.brokers), ("topic", item.topic)):
            if value is not None:
                shown = resolve(value, variables)
                out.append(f"      {label}: {value}" + (f"  (= {shown})" if shown != value else ""))
        security = item.security()
        if security:
            out.append("      security: " + ", ".join(f"{k}={display_value(k, resolve(v, variables))}" for k, v in security.items()))
        if item.family == JSR223:
            uses = sorted(set(script_imports(item.element.props.get("script", ""))))
            out.append(f"      script imports: {', '.join(uses) or '(none)'}")
        return out

    def _plugin_section(self) -> list[str]:
        a = self.analysis
        out = ["", "Plugins:"]
        for family in a.families:
            out.append(f"  {family.name}: {family.source}")
        for element in a.other_plugins:
            family = family_of(element.testclass)
            note = family.name if family else "unknown plugin"
            out.append(f'  line {element.line}: "{element.name}" uses {element.testclass} ({note})')
        for needed in a.unknown_classes:
            out.append(f"  line {needed.line}: needs {needed.name}, which is neither stock JMeter nor kafka-clients "
                       "nor a known plugin: supply its jar under the workload's plugins")
        return out if len(out) > 2 else ["", "Plugins: none (stock JMeter" + (" + kafka-clients" if a.kafka else "") + ")"]

    def _properties_section(self) -> list[str]:
        reads = self.analysis.jmx.property_reads
        if not reads:
            return ["", "Properties read with ${__P()}: none"]
        out = ["", "Properties read with ${__P()}:"]
        for r in reads:
            out.append(f"  {r.name}" + ("" if r.default is None else f" (default: {display_value(r.name, r.default)})"))
        return out

    def _thread_group_section(self) -> list[str]:
        out = ["", "Thread groups:"]
        for group in self.analysis.jmx.thread_groups:
            fields = ", ".join(f"{label} {group.props[key]}" for label, key in _THREAD_FIELDS if group.props.get(key))
            state = "" if group.enabled else " [disabled]"
            out.append(f'  line {group.line}: {group.short_class} "{group.name}": {fields}{state}')
        return out

    def _timer_section(self) -> list[str]:
        timers = self.analysis.timers
        if not timers:
            return ["", "Timers: none"]
        out = ["", "Timers:"]
        for timer in timers:
            fields = ", ".join(f"{k} {timer.props[k]}" for k in _TIMER_FIELDS if timer.props.get(k))
            state = "" if timer.enabled else " [disabled]"
            out.append(f'  line {timer.line}: {timer.short_class} "{timer.name}"' + (f": {fields}" if fields else "") + state)
        return out

    def _override_section(self) -> list[str]:
        out = ["", "The orchestrator will override:"]
        for o in self.analysis.overrides:
            how = f"JMeter property -J{o.key}" if o.via == "property" else f'Taurus set-prop "{o.key}"'
            out.append(f"  {o.what} (line {o.line}) via {how}")
        if not self.analysis.overrides:
            out.append("  (no broker or topic field found: pass them with jmeter_properties or modifications)")
        out.append("  every thread group's duration via Taurus hold-for (the workload's duration, default the plan's length),")
        out.append("  and its threads and ramp-up via Taurus concurrency and ramp-up when the workload sets instances or ramp_up")
        return out

    def snippet(self) -> str:
        a = self.analysis
        overridden = {o.key for o in a.overrides if o.via == "property"}
        knobs = {r.name: r.default for r in a.jmx.property_reads
                 if r.name not in overridden and not r.secret and r.default is not None}
        plugins = [f"{f.maven}:<version>" if f.maven else f"path/to/{f.name.lower()}.jar" for f in a.families]
        if a.unknown_classes:
            plugins.append("path/to/jar-with-" + a.unknown_classes[0].name.rsplit(".", 1)[-1] + ".jar")
        workload: dict[str, object] = {"name": _workload_name(a.jmx.path), "kind": "script", "engine": "jmeter",
                                       "script": str(a.jmx.path)}
        topics = [o for o in a.overrides if o.what == "topic"]
        if topics:
            workload["topic"] = "my-topic"
        if knobs:
            workload["jmeter_properties"] = knobs
        if plugins:
            workload["plugins"] = plugins
        return yaml.safe_dump({"workloads": [workload]}, sort_keys=False, default_flow_style=False).rstrip()


def import_jmx(path: Path) -> ImportReport:
    return ImportReport(analyze(parse_jmx(path)))


def _workload_name(path: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.") or "jmeter-script"
    return name[:63] if re.match(NAME_PATTERN, name[:63]) else "jmeter-script"
