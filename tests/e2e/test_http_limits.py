"""The HTTP layer of a real server under slow, partial and oversized requests, over raw sockets."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from support.server import Server, running_server

T = TypeVar("T")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, aws_available: None) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("limits"),
        OPENCOMPREHEND_HEADER_TIMEOUT_S="1",
        OPENCOMPREHEND_REQUEST_TIMEOUT_S="1",
        OPENCOMPREHEND_MAX_HEADER_BYTES="8192",
        OPENCOMPREHEND_WORKERS="1",
    ) as running:
        yield running


def answer(sock: socket.socket, timeout: float = 10) -> tuple[int, dict[str, str], dict]:
    """Read one HTTP response (status, headers, JSON body) from a raw socket."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, json.loads(body)


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def test_headers_that_never_finish_get_408_and_the_connection_closes(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        started = time.monotonic()
        status, headers, body = answer(sock)
        assert (status, body["__type"]) == (408, "RequestTimeoutException")
        assert headers["content-type"] == "application/x-amz-json-1.1"
        assert time.monotonic() - started < 8  # the 1 s limit, not the 10 s default or never
        assert sock.recv(100) == b""  # closed


def test_a_byte_at_a_time_does_not_keep_headers_open(server: Server) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        for byte in b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
            if time.monotonic() - started > 3:
                break
        status, _, body = answer(sock)
        assert status == 408


def test_a_body_shorter_than_its_content_length_gets_408(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Comprehend_20171127.ListEntitiesDetectionJobs\r\n"
            b"Content-Length: 100\r\n\r\n{}"
        )
        status, _, body = answer(sock)
        assert (status, body["__type"]) == (408, "RequestTimeoutException")


def test_oversized_headers_get_431_in_aws_form(server: Server) -> None:
    with connect(server) as sock:
        try:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n")
        except OSError:
            pass  # the server may stop reading once it has answered
        status, _, body = answer(sock)
        assert (status, body["__type"]) == (431, "RequestHeaderFieldsTooLargeException")


LIST_JOBS = b"X-Amz-Target: Comprehend_20171127.ListEntitiesDetectionJobs\r\nContent-Length: 2\r\n"


@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"a" * 9_000 + b"\r\n",
        b"X-Big: " + b"a" * 127_500 + b"\r\n",
        b"".join(b"X-Many-%d: %s\r\n" % (i, b"b" * 90) for i in range(120)),
    ],
    ids=["just over", "127,500 bytes", "many headers"],
)
def test_oversized_headers_sent_in_one_piece_get_431(server: Server, headers: bytes) -> None:
    # h11 alone bounds only headers still incomplete: whole in one read, they passed (200).
    with connect(server) as sock:
        try:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + LIST_JOBS + headers + b"\r\n{}")
        except OSError:
            pass
        status, headers_back, body = answer(sock)
    assert (status, body["__type"]) == (431, "RequestHeaderFieldsTooLargeException"), body
    assert headers_back["content-type"] == "application/x-amz-json-1.1" and headers_back["x-amzn-requestid"]


def test_headers_just_under_the_limit_are_served(server: Server) -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\n" + LIST_JOBS
    with connect(server) as sock:
        sock.sendall(head + b"X-Big: " + b"a" * (8192 - len(head) - 200) + b"\r\n\r\n{}")
        status, _, body = answer(sock)
    assert status == 200 and "EntitiesDetectionJobPropertiesList" in body


def test_garbage_gets_400_in_aws_form(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"\x16\x03\x01 this is not HTTP\r\n\r\n")
        status, _, body = answer(sock)
        assert status == 400 and body["__type"] == "SerializationException"


def test_many_idle_connections_are_closed_and_the_server_still_answers(server: Server) -> None:
    sockets = [connect(server) for _ in range(200)]
    try:
        for sock in sockets:
            sock.sendall(b"POST / HTTP/1.1\r\n")
        time.sleep(2.5)
        closed = 0
        for sock in sockets:
            sock.settimeout(5)
            data = sock.recv(65536)
            while data:
                data = sock.recv(65536)
            closed += 1
        assert closed == len(sockets)
    finally:
        for sock in sockets:
            sock.close()
    assert server.client().list_entities_detection_jobs()["EntitiesDetectionJobPropertiesList"] == []


def test_keep_alive_requests_each_get_the_header_clock(server: Server) -> None:
    request = (
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Comprehend_20171127.ListEntitiesDetectionJobs\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    )
    with connect(server) as sock:
        for _ in range(3):
            sock.sendall(request)
            status, _, body = answer(sock)
            assert status == 200 and "EntitiesDetectionJobPropertiesList" in body
        sock.sendall(b"POST / HTTP/1.1\r\n")
        assert answer(sock)[0] == 408


# -- connections: one client cannot hold them all, /health is always answered --------------------------------

MAX_CONNECTIONS, PER_CLIENT = 40, 10  # the server below; its /health reserve is 8 connections more


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory, aws_available: None) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("connections"),
        OPENCOMPREHEND_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
        OPENCOMPREHEND_MAX_CONNECTIONS_PER_CLIENT=str(PER_CLIENT),
        OPENCOMPREHEND_HEADER_TIMEOUT_S="30",  # idle sockets stay for the whole test
        OPENCOMPREHEND_WORKERS="1",
    ) as running:
        yield running


def idle_sockets(server: Server, source: str, count: int) -> list[socket.socket]:
    """`count` connections from the loopback address `source` (127.0.0.x: another client), left silent."""
    return [
        socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))
        for _ in range(count)
    ]


def assert_unavailable(sock: socket.socket) -> None:
    status, headers, body = answer(sock, timeout=5)
    assert (status, body["__type"]) == (503, "ServiceUnavailableException"), body
    assert headers["content-type"] == "application/x-amz-json-1.1" and headers["x-amzn-requestid"]


def _until(call: Callable[[], T], done: Callable[[T], bool], timeout: float = 10) -> T:
    """call() again until done() says its answer is the one awaited (or `timeout` s pass): its last answer."""
    deadline = time.monotonic() + timeout
    got = call()
    while not done(got) and time.monotonic() < deadline:
        time.sleep(0.05)
        got = call()
    return got


def health(server: Server) -> int:
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        return answer(sock)[0]


def list_jobs(server: Server) -> tuple[int, dict]:
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + LIST_JOBS + b"\r\n{}")
        status, _, body = answer(sock)
    return status, body


def test_one_client_cannot_hoard_connections(crowded: Server) -> None:
    # Before: nothing bounded one address; ~1,000 idle sockets made every request, /health too, a plain 503.
    hoard = idle_sockets(crowded, "127.0.0.2", PER_CLIENT)
    try:
        refused = idle_sockets(crowded, "127.0.0.2", 5)
        for sock in refused:
            assert_unavailable(sock)  # answered at once, before it sent a byte, and closed
            assert sock.recv(100) == b""
        # Everyone else is served as usual, and so is that client once it lets a connection go.
        assert health(crowded) == 200
        assert list_jobs(crowded)[0] == 200
        hoard.pop().close()
        # Served as soon as the server has seen that connection go (polled, not slept on).
        deadline = time.monotonic() + 10
        while True:
            again = idle_sockets(crowded, "127.0.0.2", 1)[0]
            again.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            status = answer(again)[0]
            if status == 200 or time.monotonic() > deadline:
                break
            again.close()
            time.sleep(0.05)
        assert status == 200
        hoard.append(again)
    finally:
        for sock in hoard + refused:
            sock.close()


def test_idle_connections_make_room_for_new_ones(crowded: Server) -> None:
    # Four clients hold all 40 connections, silent: the longest-waiting is closed to serve a new request.
    held: list[socket.socket] = []
    try:
        for client in range(3, 3 + MAX_CONNECTIONS // PER_CLIENT):
            held += idle_sockets(crowded, f"127.0.0.{client}", PER_CLIENT)
        time.sleep(0.3)
        assert list_jobs(crowded)[0] == 200
        assert health(crowded) == 200
        held[0].settimeout(5)
        assert held[0].recv(100) == b""  # the oldest idle connection, closed without a word
    finally:
        for sock in held:
            sock.close()


def test_when_every_connection_is_busy_only_health_is_answered(crowded: Server) -> None:
    # 40 requests whose bodies are still coming: API requests get 503 in AWS's form, /health is answered.
    busy: list[socket.socket] = []
    try:
        for client in range(10, 10 + MAX_CONNECTIONS // PER_CLIENT):
            for sock in idle_sockets(crowded, f"127.0.0.{client}", PER_CLIENT):
                busy.append(sock)
                sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + LIST_JOBS.replace(b": 2", b": 100") + b"\r\n{")
        time.sleep(0.5)
        status, body = list_jobs(crowded)
        assert (status, body["__type"]) == (503, "ServiceUnavailableException"), body
        assert [health(crowded) for _ in range(5)] == [200] * 5
    finally:
        for sock in busy:
            sock.close()
    # Served again once they are gone (polled, not slept on).
    assert _until(lambda: list_jobs(crowded), lambda got: got[0] == 200)[0] == 200
