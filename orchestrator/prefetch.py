"""Resolve the Kafka and JMeter distributions into the per-user cache ahead of time.

``python -m orchestrator.prefetch`` is run by .ci/setup so the first apply (and CI) does not pay
for Maven downloads inside a timed run. Both steps are no-ops when the cache is complete.
"""

from __future__ import annotations

import sys

from orchestrator.errors import OrchestrateError
from orchestrator.artifacts.kafka import kafka_libs
from orchestrator.artifacts.jmeter import ensure_jmeter
from orchestrator.plan.models import LocalTarget


def main() -> int:
    try:
        print(f"kafka: {kafka_libs(LocalTarget().kafka_version)}")
        print(f"jmeter: {ensure_jmeter()}")
    except OrchestrateError as err:
        print(f"prefetch: {err}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
