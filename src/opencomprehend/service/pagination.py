"""Opaque, signed NextTokens tied to the filter that made them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opencomprehend.service.errors import ServiceError, invalid_request

DEFAULT_MAX_RESULTS = 100


def _digest(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()[:32]


def filter_fingerprint(filter_members: dict[str, Any] | None) -> str:
    return hashlib.sha256(json.dumps(filter_members or {}, sort_keys=True).encode()).hexdigest()[:16]


def make_token(secret: bytes, fingerprint: str, position: Any) -> str:
    payload = json.dumps({"f": fingerprint, "p": position}, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_digest(secret, payload)}"


def read_token(secret: bytes, fingerprint: str, token: str) -> Any:
    """The position a token points at; InvalidRequestException if forged or made for another filter."""
    body, _, signature = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(payload)
    except (ValueError, json.JSONDecodeError):
        raise invalid_request("Invalid pagination token.") from None
    if not hmac.compare_digest(signature, _digest(secret, payload)):
        raise invalid_request("Invalid pagination token.")
    if data.get("f") != fingerprint:
        raise invalid_request("The pagination token was made for a different filter.")
    return data.get("p")


def check_time_window(before: float | None, after: float | None) -> None:
    """A filter whose time window is empty can match nothing, which is a mistake worth saying."""
    if before is not None and after is not None and before <= after:
        raise ServiceError("InvalidFilterException", "SubmitTimeBefore must be later than SubmitTimeAfter.")


@dataclass(frozen=True)
class Pager:
    """One List* request's paging: where it starts, how many it returns, and the NextToken after it."""

    secret: bytes
    fingerprint: str
    limit: int
    after: Any  # the position a NextToken pointed at; None on the first page

    @classmethod
    def open(
        cls,
        secret: bytes,
        listing: str,
        filter_members: dict[str, Any] | None,
        next_token: str | None,
        max_results: int | None,
    ) -> Pager:
        fingerprint = filter_fingerprint({"listing": listing, "filter": filter_members or {}})
        after = None if next_token is None else read_token(secret, fingerprint, next_token)
        return cls(secret, fingerprint, max_results or DEFAULT_MAX_RESULTS, after)

    def keyset(self) -> tuple[float, str] | None:
        """The (time, id) the previous page ended at, for lists ordered by time."""
        if self.after is None:
            return None
        if not (isinstance(self.after, list) and len(self.after) == 2):
            raise invalid_request("Invalid pagination token.")
        return float(self.after[0]), str(self.after[1])

    def page(self, rows: list[dict[str, Any]], position: Callable[[dict[str, Any]], Any]) -> tuple[list, str | None]:
        """Rows fetched with limit + 1 → this page, and a NextToken when more follow."""
        page = rows[: self.limit]
        if len(rows) <= self.limit:
            return page, None
        return page, make_token(self.secret, self.fingerprint, position(page[-1]))


def listed(member: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    """A List operation's answer: the page under its member name, and NextToken only when more follow."""
    response: dict[str, Any] = {member: items}
    if token:
        response["NextToken"] = token
    return response
