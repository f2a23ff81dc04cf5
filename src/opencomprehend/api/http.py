"""HTTP/1.1 with limits: uvicorn's h11 protocol, guarded against slow, partial and oversized requests.

uvicorn times out idle keep-alive connections but not a request whose headers never finish arriving,
and answers a malformed or oversized request line in plain text by closing at once (a client still
sending sees a reset). This protocol adds what a public endpoint needs:

- the headers of each request must arrive within `header_timeout_s` (408, or a plain close when not a
  byte came);
- headers over `max_header_bytes` are answered 431 however their bytes arrive (h11 itself bounds only
  headers still incomplete, so headers that arrive whole in one read would pass it), other malformed
  requests 400;
- one client address holds at most `max_connections_per_client` connections: a new one past it is
  answered 503 at once and closed, so that one client's idle sockets cannot deny service to others;
- past `max_connections` in all, a new connection first closes the connection that has waited longest
  for its request's headers (silent since it connected or since its last answer: it does no work), so
  idle sockets, from however many clients, never keep a request out;
- when every connection is busy with a request, API requests past `max_connections` are answered 503,
  while GET /health (and /metrics) is still served on a reserve of connections above the limit; past the reserve too,
  a new connection is answered 503 at once (uvicorn's own `limit_concurrency` answered every request,
  /health too, in plain text, and counted idle connections);
- every such answer is in AWS's JSON error form, and the connection is drained briefly before it is
  closed, so the client reads the answer instead of a reset.

The body's own limits (size, time to arrive) are the application's (api/app.py), where the answer can
name the request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import uuid
from collections import Counter
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from opencomprehend.config import Settings

# How long a refused connection is read (and the bytes dropped) before it is closed.
DRAIN_S = 1.0

log = logging.getLogger("opencomprehend.http")


# Served on the reserve of connections too: a load balancer's probe, and a scrape that shows the overload.
RESERVED_PATHS = frozenset({"/health", "/metrics"})


def health_reserve(max_connections: int) -> int:
    """Connections above `max_connections` kept for GET /health (a load balancer's probe)."""
    return max(8, max_connections // 20)


def client_key(host: str) -> str:
    """What the per-client limit counts by: the address, or an IPv6 address's /64 (one subscriber's)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:192.0.2.1 on a dual-stack socket
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _unavailable_body(message: str) -> bytes:
    return json.dumps({"__type": "ServiceUnavailableException", "Message": message}).encode()


def _error_response(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"__type": code, "Message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        f"x-amzn-RequestId: {uuid.uuid4()}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def head_size(request: h11.Request) -> int:
    """The bytes of a request's line and headers as sent (less any whitespace h11 trimmed off values)."""
    line = len(request.method) + len(request.target) + len(b"  HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers) + 2


class HeaderLimitedConnection(h11.Connection):
    """h11's server side with `max_header_bytes` on every request's head, complete or not."""

    def __init__(self, max_header_bytes: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=max_header_bytes)
        self.max_header_bytes = max_header_bytes
        self.headers_too_large = False

    def next_event(self) -> Any:
        event = super().next_event()
        if isinstance(event, h11.Request) and head_size(event) > self.max_header_bytes:
            self.headers_too_large = True
            raise h11.RemoteProtocolError("Request headers too large.", error_status_hint=431)
        return event


def guarded_protocol(settings: Settings) -> type[H11Protocol]:
    """uvicorn's h11 protocol class with this server's header limits (pass as uvicorn's `http`)."""

    # Connections held per client (client_key), shared by every connection of this server.
    held: Counter[str] = Counter()
    # The connections waiting for a request's headers, longest-waiting first (a dict keeps the order).
    waiting: dict[Any, None] = {}
    max_connections = settings.max_connections
    most_connections = max_connections + health_reserve(max_connections)
    per_client = settings.max_connections_per_client
    refusals = {"since_logged": 0, "logged_at": float("-inf")}  # one warning in ten seconds, not one a socket

    class GuardedH11Protocol(H11Protocol):
        header_timeout_s = settings.header_timeout_s
        max_header_bytes = settings.max_header_bytes

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.conn = HeaderLimitedConnection(self.max_header_bytes)
            self._header_timer: asyncio.TimerHandle | None = None
            self._started_cycle: object | None = None
            self._received = 0
            self._refused = False
            self._held_by: str | None = None
            self.app = self._admitted(self.app)

        # -- how many connections ---------------------------------------------------------------------

        def _admit(self) -> str | None:
            """Why this new connection is refused, or None when it is taken (and counted for its client)."""
            key = client_key(self.client[0]) if self.client else None
            if per_client and key is not None and held[key] >= per_client:
                return f"This client address holds {per_client} connections, the most one client may hold at once."
            if len(self.connections) > max_connections:
                self._make_room()
            if len(self.connections) > most_connections:
                return "The server holds as many connections as it takes; try again shortly."
            if key is not None:
                held[key] += 1
                self._held_by = key
            return None

        def _make_room(self) -> None:
            """Close the connection that has waited longest for a request's headers, if there is one."""
            oldest = next((other for other in waiting if other is not self), None)
            if oldest is None:
                return
            oldest._disarm()
            oldest.connections.discard(oldest)  # at once: its connection_lost comes on a later turn
            oldest.transport.close()

        def _release(self) -> None:
            if self._held_by is not None:
                held[self._held_by] -= 1
                if held[self._held_by] <= 0:
                    del held[self._held_by]
                self._held_by = None

        def _admitted(self, app: Any) -> Any:
            """The ASGI app behind a check made when a request arrives: past `max_connections` connections
            or running requests, every request but GET /health and /metrics is answered 503 (the reserve serves
            those)."""
            connections, tasks = self.connections, self.tasks

            async def admitted(scope: Any, receive: Any, send: Any) -> None:
                busy = len(connections) > max_connections or len(tasks) > max_connections
                if scope["type"] != "http" or not busy or scope["path"] in RESERVED_PATHS:
                    await app(scope, receive, send)
                    return
                body = _unavailable_body(
                    f"The server is serving {max_connections} connections or requests, its most; try again shortly."
                )
                headers = [
                    (b"content-type", b"application/x-amz-json-1.1"),
                    (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ]
                await send({"type": "http.response.start", "status": 503, "headers": headers})
                await send({"type": "http.response.body", "body": body})

            return admitted

        # -- the header clock -------------------------------------------------------------------------

        def _arm(self) -> None:
            self._disarm()
            self._received = 0
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)
            waiting[self] = None

        def _disarm(self) -> None:
            waiting.pop(self, None)
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            waiting.pop(self, None)
            self._header_timer = None
            if self.transport.is_closing():
                return
            if self._received == 0:
                self.transport.close()  # an idle connection: nothing to answer
                return
            self._refuse(
                408,
                "Request Timeout",
                "RequestTimeoutException",
                f"The request headers were not received within {self.header_timeout_s:.0f} seconds.",
            )

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            refused = self._admit()
            if refused is not None:
                # Not one of the connections the limits count while it drains.
                self.connections.discard(self)
                refusals["since_logged"] += 1
                if self.loop.time() - refusals["logged_at"] >= 10:
                    where = self.client[0] if self.client else "?"
                    count = refusals["since_logged"]
                    log.warning("%d connection(s) refused, the last from %s: %s", count, where, refused)
                    refusals.update(since_logged=0, logged_at=self.loop.time())
                self._refuse(503, "Service Unavailable", "ServiceUnavailableException", refused)
                return
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self._release()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request on this connection gets the same time for its headers

        # -- reading ------------------------------------------------------------------------------------

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return  # draining before the close
            if self._header_timer is not None:
                self._received += len(data)
            super().data_received(data)
            if self.cycle is not None and self.cycle is not self._started_cycle:
                # h11 produced a request: its headers are complete.
                self._started_cycle = self.cycle
                self._disarm()

        def send_400_response(self, msg: str) -> None:
            # h11 keeps what it could not parse; more than the header limit means the headers were too large.
            pending = len(self.conn.trailing_data[0])
            if pending >= self.max_header_bytes or getattr(self.conn, "headers_too_large", False):
                self._refuse(
                    431,
                    "Request Header Fields Too Large",
                    "RequestHeaderFieldsTooLargeException",
                    f"The request headers are larger than {self.max_header_bytes} bytes.",
                )
            else:
                self._refuse(400, "Bad Request", "SerializationException", f"{msg.rstrip('.')}: not valid HTTP/1.1.")

        def _refuse(self, status: int, reason: str, code: str, message: str) -> None:
            self._disarm()
            self._refused = True
            self.transport.write(_error_response(status, reason, code, message))
            self.loop.call_later(DRAIN_S, self.transport.close)

    return GuardedH11Protocol


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What `opencomprehend serve` passes to uvicorn besides the app, host and port."""
    return {
        "http": guarded_protocol(settings),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        # Not uvicorn's limit_concurrency (every request past it, /health too, gets a plain-text 503): the
        # protocol's own limits above answer in AWS's form, per client, with a reserve for /health.
        "limit_concurrency": None,
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": 10,
    }
