"""Partition reassignment through Kafka's AlterPartitionReassignments request (API key 45, v0),
which confluent-kafka's AdminClient does not offer. Any broker takes it (a KRaft broker forwards it
to the controller); completion is seen in the metadata, where a partition's replicas are the target
once the moved replicas are in sync and the removed ones are gone."""

from __future__ import annotations

import struct

from orchestrator.errors import RunError
from orchestrator.execute.log_dirs import Connection, compact_string, error_name, uvarint

ALTER_PARTITION_REASSIGNMENTS = 45
WHAT = "alterPartitionReassignments"

Assignment = dict[tuple[str, int], list[int]]  # (topic, partition) -> replicas, preferred leader first


def request_body(assignment: Assignment, timeout_ms: int) -> bytes:
    topics: dict[str, list[tuple[int, list[int]]]] = {}
    for (topic, partition), replicas in sorted(assignment.items()):
        topics.setdefault(topic, []).append((partition, replicas))
    body = struct.pack(">i", timeout_ms) + uvarint(len(topics) + 1)
    for topic, partitions in topics.items():
        body += compact_string(topic) + uvarint(len(partitions) + 1)
        for partition, replicas in partitions:
            body += struct.pack(">i", partition) + uvarint(len(replicas) + 1)
            body += b"".join(struct.pack(">i", r) for r in replicas) + b"\x00"
        body += b"\x00"
    return body + b"\x00"


def reassign(address: str, assignment: Assignment, timeout: float) -> None:
    """Asks the broker at ``address`` to move each partition to its replicas; RunError naming the
    first partition the controller refused."""
    conn = Connection(address, timeout, WHAT)
    try:
        reader = conn.request(ALTER_PARTITION_REASSIGNMENTS, 0, request_body(assignment, int(timeout * 1000)),
                              flexible=True)
        reader.take(">i")  # throttle time
        code, message = reader.take(">h"), reader.compact_string()
        if code:
            raise RunError(f"{WHAT} {address}: {error_name(code)}: {message}")
        for _ in range(reader.compact_count()):
            topic = reader.compact_string()
            for _ in range(reader.compact_count()):
                partition, code, message = reader.take(">i"), reader.take(">h"), reader.compact_string()
                reader.skip_tags()
                if code:
                    raise RunError(f"{WHAT} {address}: {topic}-{partition}: {error_name(code)}: {message}")
            reader.skip_tags()
    finally:
        conn.close()
