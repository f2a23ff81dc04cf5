"""The wire: AWS JSON 1.1 on ``POST /``, dispatched by ``X-Amz-Target`` to a handler per operation."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import opencomprehend.service  # noqa: F401  (registers every operation)
from opencomprehend.api import model
from opencomprehend.service.errors import ServiceError
from opencomprehend.service.registry import OPERATIONS, Environment, RequestContext, snake_case

log = logging.getLogger("opencomprehend.api")

CONTENT_TYPE = "application/x-amz-json-1.1"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/")


def _status_for(code: str, default: int) -> int:
    """The HTTP status botocore's model gives a modeled error; others keep their own."""
    try:
        shape = model.service_model().shape_for(code)
    except Exception:  # noqa: BLE001  (an unmodeled code such as ValidationException)
        return default
    return shape.metadata.get("error", {}).get("httpStatusCode", default)


def _json(body: dict[str, Any], status: int, request_id: str) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )


def _error(error: ServiceError, request_id: str) -> Response:
    return _json(error.body(), _status_for(error.code, error.status), request_id)


def _region(request: Request, default: str) -> str:
    found = _CREDENTIAL_SCOPE.search(request.headers.get("authorization", ""))
    return found.group(1) if found else default


def build_app(env: Environment, lifespan_hooks: list[Callable[[], Any]] | None = None) -> Starlette:
    settings = env.settings

    async def dispatch(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        target = request.headers.get("x-amz-target", "")
        prefix, _, name = target.partition(".")
        if prefix != model.target_prefix() or name not in model.operation_names():
            return _error(
                ServiceError("UnknownOperationException", f"Unknown operation {target or '(none)'}."),
                request_id,
            )
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(
                ServiceError("SerializationException", "The request body is not valid JSON."), request_id
            )
        try:
            params = model.validate_request(name, body)
            handler = OPERATIONS.get(name)
            if handler is None:
                raise ServiceError(
                    "NotImplementedException",
                    f"The operation {name} is not implemented by this OpenComprehend server.",
                    status=501,
                )
            ctx = RequestContext(
                account_id=settings.account_id,
                region=_region(request, settings.region),
                partition=settings.partition,
                request_id=request_id,
            )
            kwargs = {snake_case(key): value for key, value in params.items()}
            result = await run_in_threadpool(handler, env, ctx, **kwargs)
        except ServiceError as exc:
            return _error(exc, request_id)
        except Exception:
            log.exception("internal error in %s (request %s)", name, request_id)
            return _error(
                ServiceError(
                    "InternalServerException",
                    f"An internal error occurred. Request id {request_id}.",
                    status=500,
                ),
                request_id,
            )
        return _json(result, 200, request_id)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        stops = [hook() for hook in (lifespan_hooks or [])]
        try:
            yield
        finally:
            for stop in reversed(stops):
                if callable(stop):
                    await run_in_threadpool(stop)

    return Starlette(routes=[Route("/", dispatch, methods=["POST"])], lifespan=lifespan)
