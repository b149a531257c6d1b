"""The analysis stage: what the collected measurements mean. SLO verdicts over their windows,
latency statistics, retention projections, and the answers to the questions a run was planned to
answer. Reads collect/ and plan/; the report stage renders what it computes."""

# each question's analysis registers itself with orchestrator.analyze.answers when imported
from orchestrator.analyze import disk, capacity, consumer_rate  # noqa: F401, I001 - registry order is the answers order
