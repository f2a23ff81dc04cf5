"""Opaque, signed NextTokens tied to the filter that made them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from opencomprehend.service.errors import ServiceError, invalid_request
from opencomprehend.service.registry import Environment, RequestContext, operation

# A record of the store a listing reads (jobs.rows).
T = TypeVar("T")

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


def submit_window(members: dict[str, Any]) -> dict[str, Any]:
    """A Filter's SubmitTimeBefore and SubmitTimeAfter as the store's filter fields (an empty window refused)."""
    before, after = members.get("SubmitTimeBefore"), members.get("SubmitTimeAfter")
    check_time_window(before, after)
    return {"submit_time_before": before, "submit_time_after": after}


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

    def page(self, rows: list[T], position: Callable[[T], Any]) -> tuple[list[T], str | None]:
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


def list_page(
    secret: bytes,
    listing: str,
    members: dict[str, Any],
    next_token: str | None,
    max_results: int | None,
    fetch: Callable[[Any, int], list[T]],
    position: Callable[[T], Any],
) -> tuple[list[T], str | None]:
    """One page of a listing and the NextToken after it: fetch(after, limit) reads the store's rows after the
    token's position (None on the first page), one more than the page holds; position(row) is where a row
    stands, for the token (signed for `listing` and the filter `members`)."""
    pager = Pager.open(secret, listing, members, next_token, max_results)
    return pager.page(fetch(pager.keyset(), pager.limit + 1), position)


def list_operation(
    name: str,
    member: str,
    listing: str,
    where: Callable[[dict[str, Any]], Any],
    rows: Callable[[Environment, RequestContext, Any, tuple[float, str] | None, int], list[T]],
    position: Callable[[T], Any],
    properties: Callable[[Environment, T], dict[str, Any]],
) -> None:
    """Register the List operation `name` (ListEndpoints, ListEntitiesDetectionJobs…).

    Its Filter's members become the store's filter by where(), which may refuse them before the NextToken
    is read; rows(env, ctx, filter, after, limit) fetches the page in the store's order after the token's
    position(row); each row is answered as properties(env, row) under `member`, with a NextToken signed
    for `listing` and the filter when more follow.
    """

    @operation(name)
    def list_(
        env: Environment,
        ctx: RequestContext,
        *,
        filter: dict[str, Any] | None = None,  # noqa: A002  (the member's name)
        next_token: str | None = None,
        max_results: int | None = None,
    ) -> dict[str, Any]:
        members = filter or {}
        chosen = where(members)
        page, token = list_page(
            env.secret, listing, members, next_token, max_results,
            lambda after, limit: rows(env, ctx, chosen, after, limit), position,
        )  # fmt: skip
        return listed(member, [properties(env, row) for row in page], token)
