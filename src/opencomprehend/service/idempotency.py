"""ClientRequestToken: a request is the same request when its parameters hash the same."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def request_hash(members: dict[str, Any]) -> str:
    """A digest of every member but the token, stable across key order."""
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
