"""The run directory's layout, in one place. Every stage finds its files through ``RunDir``."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# A generated JMeter producer writes one sample per batch of sends, labelled batch_label(workload):
# all Taurus's kpi.jtl holds. Its messages (sub-samples, labelled with the workload's name) are in
# MESSAGES_JTL beside it, written by the test plan's own listener after each batch line.
MESSAGES_JTL = "messages.jtl"


def batch_label(workload: str) -> str:
    return f"{workload} batch"


@dataclass(frozen=True)
class RunDir:
    root: Path

    @classmethod
    def create(cls, plan_name: str, base: Path = Path("runs"), explicit: Path | None = None) -> "RunDir":
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        run = cls(explicit if explicit is not None else base / f"{plan_name}-{stamp}")
        for d in (run.rendered, run.raw, run.results, run.report_dir):
            d.mkdir(parents=True, exist_ok=True)
        return run

    # inputs as resolved for this run
    @property
    def resolved_plan(self) -> Path:
        return self.root / "plan.resolved.yaml"

    @property
    def rendered(self) -> Path:
        return self.root / "rendered"

    # raw measurements, one folder per source; `orchestrate report` rebuilds everything from here
    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def raw_native(self) -> Path:
        """The native runners' records: raw/native/<workload>/<instance>.jsonl"""
        return self.raw / "native"

    def native_records(self, workload: str, instance: int) -> Path:
        return self.raw_native / workload / f"{instance}.jsonl"

    def native_spec(self, workload: str, instance: int) -> Path:
        return self.rendered / "native" / workload / f"{instance}.json"

    @property
    def raw_iostat(self) -> Path:
        """iostat JSON, one file per host: raw/iostat/<host>.json"""
        return self.raw / "iostat"

    @property
    def raw_jmx(self) -> Path:
        """Kafka's JmxTool output (tsv), one file per broker: raw/jmx/<broker id>.tsv"""
        return self.raw / "jmx"

    def jmx_samples(self, broker: str) -> Path:
        return self.raw_jmx / f"{broker}.tsv"

    def jmx_log(self, broker: str) -> Path:
        """JmxTool's stderr (connection attempts, why it stopped)"""
        return self.raw_jmx / f"{broker}.log"

    @property
    def raw_host(self) -> Path:
        """Host CPU, memory and network samples, one file per host: raw/host/<host>.jsonl"""
        return self.raw / "host"

    def host_samples(self, host: str) -> Path:
        return self.raw_host / f"{host}.jsonl"

    @property
    def admin_samples(self) -> Path:
        return self.raw / "kafka_admin" / "samples.jsonl"

    @property
    def orchestrator_usage(self) -> Path:
        """apply's own CPU and memory over the load, written when the load ends"""
        return self.raw / "orchestrator.json"

    @property
    def raw_jmeter(self) -> Path:
        """JMeter's results (kpi.jtl, jmeter.log, bzt's files), one folder per workload"""
        return self.raw / "jmeter"

    def jmeter_artifacts(self, workload: str) -> Path:
        return self.raw_jmeter / workload

    def jmeter_messages(self, workload: str) -> Path:
        return self.jmeter_artifacts(workload) / MESSAGES_JTL

    def jmeter_rendered(self, workload: str) -> Path:
        return self.rendered / "jmeter" / workload

    @property
    def events(self) -> Path:
        return self.raw / "events.jsonl"

    @property
    def control(self) -> Path:
        """A running search's probes or drain's release, written by apply and followed by the native runners."""
        return self.root / "control.json"

    @property
    def broker_dir(self) -> Path:
        return self.root / "broker"

    def broker_free_bytes(self) -> float | None:
        """Free space under the local broker's data directory, when this run started one."""
        return float(shutil.disk_usage(self.broker_dir).free) if self.broker_dir.is_dir() else None

    @property
    def ansible_dir(self) -> Path:
        return self.root / "ansible"

    # derived outputs
    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def timeline_csv(self) -> Path:
        return self.results / "timeline.csv"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def junit(self) -> Path:
        return self.root / "junit.xml"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def report_html(self) -> Path:
        return self.report_dir / "index.html"
