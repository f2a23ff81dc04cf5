"""Operation handlers, found by the operation's name.

A handler takes the environment, the request context and the request's members as snake_case keyword
arguments, and returns a plain dict. An operation without a handler is answered by the API layer with an
error that names it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opencomprehend.config import Settings
from opencomprehend.io.objects import ObjectStore
from opencomprehend.jobs.endpoints import EndpointStore
from opencomprehend.jobs.recognizers import RecognizerStore
from opencomprehend.jobs.store import JobStore
from opencomprehend.jobs.tags import TagStore
from opencomprehend.metrics import Metrics
from opencomprehend.runtime.runner import Runner
from opencomprehend.security.credentials import CredentialStore
from opencomprehend.security.keyring import KeyRing
from opencomprehend.security.roles import RoleRegistry
from opencomprehend.service.throttle import Throttles

Handler = Callable[..., dict[str, Any]]
OPERATIONS: dict[str, Handler] = {}


def operation(name: str, lane: str = "control") -> Callable[[Handler], Handler]:
    """Register a handler; its requests are counted against the account's rate for `lane` first."""

    def register(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def throttled(env: Environment, ctx: RequestContext, **members: Any) -> dict[str, Any]:
            env.throttles.check(env.settings, ctx.account_id, ctx.region, lane)
            return handler(env, ctx, **members)

        OPERATIONS[name] = throttled
        return handler

    return register


@dataclass(frozen=True)
class Environment:
    settings: Settings
    store: JobStore
    recognizers: RecognizerStore
    endpoints: EndpointStore
    secret: bytes  # signs pagination tokens
    tags: TagStore  # every resource's tags
    credentials: CredentialStore | None = None  # the API's access keys, with auth = "sigv4"
    roles: RoleRegistry | None = None  # data access roles, enforced with auth = "sigv4"
    keys: KeyRing | None = None  # the local KMS keyring
    objects: ObjectStore | None = None
    runner: Runner | None = None  # the warm workers; None when the app runs without them
    # Called after a job is queued or asked to stop, so a local scheduler acts at once instead of at its next poll.
    on_job_change: list[Callable[[], None]] = field(default_factory=list)
    # The per-account request rates of this service (service/throttle.py).
    throttles: Throttles = field(default_factory=Throttles)
    # This app's Prometheus counters (GET /metrics).
    metrics: Metrics = field(default_factory=Metrics)

    def job_changed(self) -> None:
        for notify in self.on_job_change:
            notify()

    def health(self) -> dict[str, Any]:
        """What GET /health reports: OK while the job store answers and at least one worker is up.

        A pool replacing a dead worker still serves on the others, so it stays OK, with the figures.
        """
        healthy = True
        try:
            self.store.ping()
            store = "OK"
        except Exception as exc:  # noqa: BLE001  (whatever the database says, the node is not healthy)
            healthy, store = False, f"UNAVAILABLE: {type(exc).__name__}"
        # This node's worker processes (Live, Configured), or a cluster's workers and task slots.
        workers = self.runner.health() if self.runner is not None else {"Live": 0}
        healthy = healthy and workers["Live"] > 0
        return {"Status": "OK" if healthy else "UNAVAILABLE", "Store": store, "Workers": workers}


@dataclass(frozen=True)
class RequestContext:
    account_id: str
    region: str
    partition: str
    request_id: str
    # Every member of the operation's input shape but ClientRequestToken, None where the request has none: the
    # request as idempotency hashes it (api.app.invoke fills it from the model, so no member is left out).
    members: dict[str, Any] = field(default_factory=dict)

    def arn(self, resource: str) -> str:
        return f"arn:{self.partition}:comprehend:{self.region}:{self.account_id}:{resource}"


def snake_case(member: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", member).lower()
