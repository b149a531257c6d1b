"""The collector: raw sources of a run ▶ one per-second timeline, workload totals and events."""

from orchestrator.collect.collector import Collected, collect

__all__ = ["Collected", "collect"]
