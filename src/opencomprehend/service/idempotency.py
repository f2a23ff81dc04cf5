"""ClientRequestToken: a request is the same request when its parameters hash the same."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from opencomprehend.jobs.records import IdempotencyMismatch, NameTaken, RecordStore
from opencomprehend.jobs.rows import R
from opencomprehend.service.errors import ServiceError, invalid_request


def request_hash(members: dict[str, Any]) -> str:
    """A digest of every member but the token, stable across key order."""
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_once(
    store: RecordStore[R],
    row: dict[str, Any],
    tags: list[tuple[str, str]] | None,
    name_taken: Callable[[], ServiceError] | None = None,
) -> tuple[R, bool]:
    """store.create(row, tags): the record and whether this request created it (a reused token returns the
    first). A token reused with other parameters is InvalidRequestException; a name already taken is
    name_taken() (NameTaken itself without one)."""
    try:
        return store.create(row, tags)
    except NameTaken:
        if name_taken is None:
            raise
        raise name_taken() from None
    except IdempotencyMismatch:
        raise invalid_request(
            "The ClientRequestToken was already used for a request with different parameters."
        ) from None
