"""Archives copied to inventory hosts: Kafka's jars, the native runner's sources, a JMeter home.

Each is built once per content and kept in the cache, so repeated applies copy nothing new.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.artifacts.archive import digest, source_files, tar_once
from orchestrator.artifacts.cache import cache_dir
from orchestrator.artifacts.kafka import kafka_libs

RUNNER_SRC = Path(__file__).resolve().parents[1] / "runner"


def kafka_libs_archive(version: str) -> Path:
    """One tar of the Maven-resolved jars, unpacked on every host."""
    jars = sorted(kafka_libs(version).glob("*.jar"))
    return tar_once(cache_dir("kafka") / version / "libs.tar", ((jar, jar.name) for jar in jars))


def runner_archive() -> Path:
    """The native runner's sources (it imports nothing else of orchestrator), named by their digest."""
    files = source_files(RUNNER_SRC)
    return tar_once(cache_dir("agent") / f"runner-{digest(files, RUNNER_SRC)}.tar",
                    ((f, f"runner/{f.relative_to(RUNNER_SRC)}") for f in files))


def jmeter_home_archive(home: Path) -> Path:
    """One tar of the JMeter home, unpacked on agents that lack JMeter."""
    return tar_once(cache_dir("jmeter") / f"{home.name}-home.tar", ((p, p.name) for p in sorted(home.iterdir())))
