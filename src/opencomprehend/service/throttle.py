"""Per-account request rates: token buckets per (account, region), one set per lane.

Two lanes, each with its own rate setting (0: unlimited):
- "detect": the real-time operations, DetectEntities, BatchDetectEntities, DetectPiiEntities,
  ContainsPiiEntities, DetectDominantLanguage and BatchDetectDominantLanguage (`detect_tps`), answered
  ThrottlingException (HTTP 400), as Comprehend's are;
- "control": every other operation, jobs, recognizers, endpoints, tags (`control_tps`), answered
  TooManyRequestsException, as Comprehend's control plane is.
Every SDK retry mode retries both codes, with backoff, so a burst is ridden through.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from opencomprehend.service.errors import ServiceError

LANES = {
    "detect": ("detect_tps", "ThrottlingException"),
    "control": ("control_tps", "TooManyRequestsException"),
}


class TokenBucket:
    """`rate` tokens a second, holding at most one second's worth (and at least one token)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._clock = clock
        self._tokens = self.capacity
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1.0:
                return False
            self._tokens -= 1.0
            return True


class AccountBuckets:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, account_id: str, region: str) -> bool:
        with self._lock:
            bucket = self._buckets.get((account_id, region))
            if bucket is None:
                bucket = self._buckets[(account_id, region)] = TokenBucket(self.rate)
        return bucket.take()


class Throttles:
    """The buckets of one running service (an Environment's `throttles`): one AccountBuckets per lane, made
    at its first request with the lane's rate from the settings."""

    def __init__(self) -> None:
        self._lanes: dict[str, AccountBuckets] = {}
        self._lock = threading.Lock()

    def check(self, settings: Any, account_id: str, region: str, lane: str) -> None:
        """Raise the lane's throttling error when this account and region are past the lane's rate."""
        setting, code = LANES[lane]
        rate = getattr(settings, setting)
        if rate <= 0:
            return
        with self._lock:
            buckets = self._lanes.get(lane)
            if buckets is None:
                buckets = self._lanes[lane] = AccountBuckets(rate)
        if not buckets.take(account_id, region):
            raise ServiceError(code, "Rate exceeded")
