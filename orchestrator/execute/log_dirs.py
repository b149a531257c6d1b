"""Partition sizes and disk space of a broker's log dirs, from Kafka's DescribeLogDirs request (API key 35).

confluent-kafka's AdminClient has no describeLogDirs, and Kafka's LogDirsCommand prints sizes but
not the total and usable bytes of each log dir that DescribeLogDirs v4 returns (KIP-827, Kafka 3.3+),
so the request is made here over a plain socket, one broker at a time: ApiVersions v0 first, then
DescribeLogDirs at the highest version both sides know (v2-v4; v2 and v3 answer sizes only). Only
PLAINTEXT listeners without secrets: TLS and SASL are librdkafka's business, and secrets are never
handed to anything else.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

from confluent_kafka import KafkaError

from orchestrator.errors import RunError
from orchestrator.cluster import Cluster

API_VERSIONS, DESCRIBE_LOG_DIRS = 18, 35
OLDEST, NEWEST = 2, 4  # v2 is the first flexible version (Kafka 2.4); v4 adds total and usable bytes
CLIENT_ID = b"orchestrate-monitor"
MAX_RESPONSE = 256 * 1024**2


def refusal(cluster: Cluster, api: str = "describeLogDirs") -> str | None:
    """Why request ``api`` cannot be made of ``cluster`` over a plain socket, or None when it can."""
    if cluster.secret_env:
        return f"{api} would need the cluster's secrets"
    if cluster.client_config.get("security.protocol", "PLAINTEXT").upper() != "PLAINTEXT":
        return f"{api} is asked only of PLAINTEXT listeners"
    return None


@dataclass(frozen=True)
class LogDir:
    path: str
    partitions: dict[str, int] = field(default_factory=dict)  # "<topic>-<partition>" -> bytes of its segments
    total_bytes: int | None = None  # None: the broker answers below v4
    usable_bytes: int | None = None
    error: str | None = None


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            byte = self.take("B")
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def compact_string(self) -> str:
        length = self.uvarint() - 1
        text = self.data[self.pos:self.pos + max(0, length)].decode("utf-8")
        self.pos += max(0, length)
        return text

    def compact_count(self) -> int:
        return max(0, self.uvarint() - 1)  # 0 encodes a null array

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()


def uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def compact_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return uvarint(len(raw) + 1) + raw


def error_name(code: int) -> str:
    return KafkaError(code).name() if code > 0 else f"error {code}"


class Connection:
    """One request at a time to one broker; ``api`` names the request in error messages."""

    def __init__(self, address: str, timeout: float, api: str = "describeLogDirs"):
        host, _, port = address.rpartition(":")
        self.api = api
        try:
            self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
        except (OSError, ValueError) as err:
            raise RunError(f"{api} {address}: cannot connect: {err}") from None
        self.address, self.correlation = address, 0

    def request(self, api_key: int, version: int, body: bytes, flexible: bool) -> Reader:
        self.correlation += 1
        header = struct.pack(">hhih", api_key, version, self.correlation, len(CLIENT_ID)) + CLIENT_ID
        frame = header + (b"\x00" if flexible else b"") + body
        try:
            self.sock.sendall(struct.pack(">i", len(frame)) + frame)
            (size,) = struct.unpack(">i", self._exactly(4))
            if not 0 < size <= MAX_RESPONSE:
                raise RunError(f"{self.api} {self.address}: response of {size} bytes")
            reader = Reader(self._exactly(size))
        except OSError as err:
            raise RunError(f"{self.api} {self.address}: {err}") from None
        if reader.take(">i") != self.correlation:
            raise RunError(f"{self.api} {self.address}: response to another request")
        if flexible:
            reader.skip_tags()
        return reader

    def _exactly(self, count: int) -> bytes:
        chunks, left = [], count
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise OSError("connection closed by the broker")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


def highest_version(conn: Connection, api_key: int, oldest: int, newest: int) -> int:
    """The highest version of ``api_key`` in [oldest, newest] the broker supports."""
    reader = conn.request(API_VERSIONS, 0, b"", flexible=False)
    code = reader.take(">h")
    if code:
        raise RunError(f"{conn.api} {conn.address}: ApiVersions: {error_name(code)}")
    for _ in range(reader.take(">i")):
        key = reader.take(">h")
        reader.take(">h")  # the oldest version it supports
        high = reader.take(">h")
        if key == api_key:
            if high < oldest:
                raise RunError(f"{conn.api} {conn.address}: the broker answers only up to v{high}")
            return min(high, newest)
    raise RunError(f"{conn.api} {conn.address}: the broker does not offer {conn.api}")


def _request_body(topics: dict[str, list[int]] | None) -> bytes:
    if topics is None:
        return b"\x00\x00"  # null topics: every topic; no tagged fields
    body = uvarint(len(topics) + 1)
    for name, partitions in sorted(topics.items()):
        body += compact_string(name) + uvarint(len(partitions) + 1)
        body += b"".join(struct.pack(">i", p) for p in partitions) + b"\x00"
    return body + b"\x00"


def parse_response(reader: Reader, version: int, wanted: set[str] | None) -> list[LogDir]:
    """The DescribeLogDirs response body ▶ log dirs, with only the ``wanted`` topics (None: all)."""
    reader.take(">i")  # throttle time
    if version >= 3 and (code := reader.take(">h")):
        raise RunError(f"describeLogDirs: {error_name(code)}")
    dirs = []
    for _ in range(reader.compact_count()):
        code, path = reader.take(">h"), reader.compact_string()
        sizes: dict[str, int] = {}
        for _ in range(reader.compact_count()):
            topic = reader.compact_string()
            for _ in range(reader.compact_count()):
                partition, size = reader.take(">i"), reader.take(">q")
                reader.take(">q")  # offset lag
                future = reader.take("?")
                reader.skip_tags()
                # a replica being moved between dirs is counted where it is now
                if not future and (wanted is None or topic in wanted):
                    sizes[f"{topic}-{partition}"] = size
            reader.skip_tags()
        total = usable = None
        if version >= 4:
            total, usable = reader.take(">q"), reader.take(">q")
        reader.skip_tags()
        dirs.append(LogDir(path, sizes, total if total is not None and total >= 0 else None,
                           usable if usable is not None and usable >= 0 else None, error_name(code) if code else None))
    reader.skip_tags()
    return dirs


def describe_log_dirs(address: str, topics: dict[str, list[int]] | None, timeout: float) -> list[LogDir]:
    """The log dirs of the broker at ``address`` ("host:port"), with the sizes of the partitions of
    ``topics`` (topic -> partitions; None: every topic). RunError when the broker cannot answer."""
    conn = Connection(address, timeout)
    try:
        version = highest_version(conn, DESCRIBE_LOG_DIRS, OLDEST, NEWEST)
        reader = conn.request(DESCRIBE_LOG_DIRS, version, _request_body(topics), flexible=True)
        try:
            return parse_response(reader, version, set(topics) if topics is not None else None)
        except (struct.error, ValueError, UnicodeDecodeError) as err:
            raise RunError(f"describeLogDirs {address}: malformed response: {err}") from None
    finally:
        conn.close()
