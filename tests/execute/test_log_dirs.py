import socket
import struct
import threading

import pytest

from orchestrator.errors import RunError
from orchestrator.cluster import Cluster
from orchestrator.execute.log_dirs import Reader, uvarint, describe_log_dirs, parse_response, refusal
from orchestrator.execute.quorum import parse_leader


def _string(text: str) -> bytes:
    return uvarint(len(text) + 1) + text.encode()


def _partition(index: int, size: int, future: bool = False) -> bytes:
    return struct.pack(">iqq?", index, size, 0, future) + b"\x00"


def _response(version: int, dirs: list[tuple[int, str, list[tuple[str, list[bytes]]], int, int]]) -> bytes:
    """A DescribeLogDirs response body: (error code, path, [(topic, partitions)], total, usable) per dir."""
    body = struct.pack(">i", 0) + (struct.pack(">h", 0) if version >= 3 else b"") + uvarint(len(dirs) + 1)
    for code, path, topics, total, usable in dirs:
        body += struct.pack(">h", code) + _string(path) + uvarint(len(topics) + 1)
        for topic, partitions in topics:
            body += _string(topic) + uvarint(len(partitions) + 1) + b"".join(partitions) + b"\x00"
        body += (struct.pack(">qq", total, usable) if version >= 4 else b"") + b"\x00"
    return body + b"\x00"


DIRS = [(0, "/d1", [("orders", [_partition(0, 100), _partition(1, 50, future=True)]), ("other", [_partition(0, 7)])], 1000, 400),
        (56, "/d2", [], -1, -1)]


def test_a_v4_response_gives_sizes_of_the_wanted_topics_and_disk_space_per_dir():
    d1, d2 = parse_response(Reader(_response(4, DIRS)), 4, {"orders"})
    assert (d1.path, d1.partitions, d1.total_bytes, d1.usable_bytes, d1.error) == ("/d1", {"orders-0": 100}, 1000, 400, None)
    assert d2.error == "KAFKA_STORAGE_ERROR" and d2.total_bytes is None and d2.usable_bytes is None


def test_a_v3_response_has_sizes_but_no_disk_space():
    d1, _ = parse_response(Reader(_response(3, DIRS)), 3, None)
    assert d1.partitions == {"orders-0": 100, "other-0": 7} and d1.total_bytes is None


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**31])
def test_unsigned_varints_round_trip(value):
    assert Reader(uvarint(value)).uvarint() == value


class FakeBroker:
    """A loopback server that answers ApiVersions v0 and one DescribeLogDirs, as a broker would."""

    def __init__(self, max_version: int, body: bytes):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.max_version, self.body, self.requests = max_version, body, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _read(self, conn: socket.socket) -> bytes:
        head = conn.recv(4, socket.MSG_WAITALL)
        return conn.recv(struct.unpack(">i", head)[0], socket.MSG_WAITALL) if len(head) == 4 else b""

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with self.server, conn:
            key, version, correlation = struct.unpack_from(">hhi", self._read(conn))
            versions = struct.pack(">hi", 0, 1) + struct.pack(">hhh", 35, 0, self.max_version)
            conn.sendall(struct.pack(">ii", len(versions) + 4, correlation) + versions)
            second = self._read(conn)
            if not second:
                return  # the client hung up after ApiVersions
            key, version, correlation = struct.unpack_from(">hhi", second)
            self.requests.append((key, version))
            reply = struct.pack(">i", correlation) + b"\x00" + self.body
            conn.sendall(struct.pack(">i", len(reply)) + reply)


def test_describe_asks_the_highest_common_version_and_parses_its_answer():
    broker = FakeBroker(9, _response(4, DIRS))
    (d1, _) = describe_log_dirs(broker.address, {"orders": [0, 1]}, 5.0)
    assert broker.requests == [(35, 4)] and d1.usable_bytes == 400


def test_a_broker_too_old_for_flexible_requests_is_a_run_error():
    broker = FakeBroker(1, b"")
    with pytest.raises(RunError, match="only up to v1"):
        describe_log_dirs(broker.address, None, 5.0)


def test_a_malformed_response_is_a_run_error():
    broker = FakeBroker(4, b"\x00\x00")
    with pytest.raises(RunError, match="malformed response"):
        describe_log_dirs(broker.address, None, 5.0)


def test_a_broker_that_is_down_is_a_run_error():
    server = socket.create_server(("127.0.0.1", 0))
    address = f"127.0.0.1:{server.getsockname()[1]}"
    server.close()
    with pytest.raises(RunError, match="cannot connect"):
        describe_log_dirs(address, None, 1.0)


@pytest.mark.parametrize(("cluster", "reason"), [
    (Cluster("b:1", [], "4.1.1", secret_env={"sasl.password": "PW"}), "secrets"),
    (Cluster("b:1", [], "4.1.1", client_config={"security.protocol": "SSL"}), "PLAINTEXT"),
])
def test_clusters_needing_secrets_or_tls_are_refused(cluster, reason):
    assert reason in refusal(cluster)


def test_a_plaintext_cluster_without_secrets_is_not_refused():
    assert refusal(Cluster("b:1", [], "4.1.1", client_config={"security.protocol": "PLAINTEXT"})) is None


def _quorum_response(version: int, leader: int, code: int = 0) -> bytes:
    """A DescribeQuorum response body for __cluster_metadata-0 with ``leader`` and one voter."""
    message = b"\x00" if version >= 2 else b""  # null error messages
    voter = struct.pack(">i", leader) + (b"\x00" * 16 if version >= 2 else b"") + struct.pack(">q", 10)
    voter += (struct.pack(">qq", 1, 1) if version >= 1 else b"") + b"\x00"
    partition = struct.pack(">ih", 0, code) + message + struct.pack(">iiq", leader, 3, 10)
    partition += uvarint(2) + voter + uvarint(1) + b"\x00"
    body = struct.pack(">h", 0) + message + uvarint(2) + _string("__cluster_metadata") + uvarint(2) + partition + b"\x00"
    return body + (uvarint(1) if version >= 2 else b"") + b"\x00"


@pytest.mark.parametrize("version", [0, 1, 2])
def test_the_quorum_leader_is_read_at_every_version(version):
    assert parse_leader(Reader(_quorum_response(version, 3)), version) == 3
    assert parse_leader(Reader(_quorum_response(version, -1)), version) is None


def test_a_quorum_error_is_a_run_error():
    with pytest.raises(RunError, match="NOT_LEADER"):
        parse_leader(Reader(_quorum_response(2, 1, code=6)), 2)
