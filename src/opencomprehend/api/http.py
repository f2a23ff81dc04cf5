"""HTTP/1.1 with limits: uvicorn's h11 protocol, guarded against slow, partial and oversized requests.

uvicorn times out idle keep-alive connections but not a request whose headers never finish arriving,
and answers a malformed or oversized request line in plain text by closing at once (a client still
sending sees a reset). This protocol adds what a public endpoint needs:

- the headers of each request must arrive within `header_timeout_s` (408, or a plain close when not a
  byte came);
- headers over `max_header_bytes` are answered 431 however their bytes arrive (h11 itself bounds only
  headers still incomplete, so headers that arrive whole in one read would pass it), other malformed
  requests 400;
- every such answer is in AWS's JSON error form, and the connection is drained briefly before it is
  closed, so the client reads the answer instead of a reset.

The body's own limits (size, time to arrive) are the application's (api/app.py), where the answer can
name the request.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from opencomprehend.config import Settings

# How long a refused connection is read (and the bytes dropped) before it is closed.
DRAIN_S = 1.0


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

        # -- the header clock -------------------------------------------------------------------------

        def _arm(self) -> None:
            self._disarm()
            self._received = 0
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
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
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
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
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": 10,
    }
