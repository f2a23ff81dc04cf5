"""Opaque, signed NextTokens tied to the filter that made them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from opencomprehend.service.errors import invalid_request

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
