"""The active KRaft controller, from Kafka's DescribeQuorum request (API key 55, KIP-595/KIP-836).

Under KRaft the controller id in a Metadata or DescribeCluster response is an arbitrary live broker
(clients never talk to controllers), so it changes between samples of a steady cluster. The leader
of the metadata quorum is the real active controller: any broker answers DescribeQuorum by
forwarding it to the quorum. confluent-kafka has no describeMetadataQuorum, so it is asked over a
plain socket as DescribeLogDirs is (``orchestrator.execute.log_dirs``: PLAINTEXT listeners only).
"""

from __future__ import annotations

import struct

from orchestrator.errors import RunError
from orchestrator.execute.log_dirs import Connection, Reader, error_name, highest_version

DESCRIBE_QUORUM = 55
OLDEST, NEWEST = 0, 2  # every version is flexible; v2 adds error messages before the leader
# topics [{"__cluster_metadata", partitions [{0}]}], each array and struct with no tagged fields
REQUEST = (b"\x02" + bytes([len("__cluster_metadata") + 1]) + b"__cluster_metadata"
           + b"\x02" + struct.pack(">i", 0) + b"\x00\x00\x00")


def parse_leader(reader: Reader, version: int) -> int | None:
    """The quorum leader's node id from a DescribeQuorum response body; None while there is none."""
    code = reader.take(">h")
    if version >= 2:
        reader.compact_string()  # error message
    if code:
        raise RunError(f"describeQuorum: {error_name(code)}")
    topics = reader.compact_count()
    if topics:
        reader.compact_string()  # the topic asked for
    if not topics or not reader.compact_count():
        raise RunError("describeQuorum: no partition of __cluster_metadata in the answer")
    reader.take(">i")  # partition index
    code = reader.take(">h")
    if version >= 2:
        reader.compact_string()
    if code:
        raise RunError(f"describeQuorum: __cluster_metadata: {error_name(code)}")
    leader = reader.take(">i")
    return leader if leader >= 0 else None


def quorum_leader(address: str, timeout: float) -> int | None:
    """The active controller's node id, asked of the broker at ``address``. RunError when it cannot answer."""
    conn = Connection(address, timeout, api="describeQuorum")
    try:
        version = highest_version(conn, DESCRIBE_QUORUM, OLDEST, NEWEST)
        reader = conn.request(DESCRIBE_QUORUM, version, REQUEST, flexible=True)
        try:
            return parse_leader(reader, version)
        except (struct.error, ValueError, UnicodeDecodeError) as err:
            raise RunError(f"describeQuorum {address}: malformed response: {err}") from None
    finally:
        conn.close()
