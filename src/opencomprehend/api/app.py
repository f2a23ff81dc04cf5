"""The wire: AWS JSON 1.1 on ``POST /``, dispatched by ``X-Amz-Target`` to a handler per operation."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import opencomprehend.service  # noqa: F401  (registers every operation)
from opencomprehend import logs
from opencomprehend.api import model
from opencomprehend.api.auth import Identity, development_identity, verify_sigv4
from opencomprehend.service import metrics
from opencomprehend.service.errors import ServiceError
from opencomprehend.service.registry import OPERATIONS, Environment, RequestContext, snake_case

log = logging.getLogger("opencomprehend.api")
# One line per API request (operation, status, time), at INFO: on with JSON logs, off by default with text.
access_log = logging.getLogger(logs.ACCESS_LOGGER)

CONTENT_TYPE = "application/x-amz-json-1.1"


class _BadRequest(Exception):
    """A request refused before it reaches an operation; carries the error to answer with."""

    def __init__(self, error: ServiceError) -> None:
        self.error = error


def _status_for(code: str, default: int) -> int:
    """The HTTP status botocore's model gives a modeled error; others keep their own."""
    try:
        shape = model.service_model().shape_for(code)
    except Exception:  # noqa: BLE001  (an unmodeled code such as ValidationException)
        return default
    return shape.metadata.get("error", {}).get("httpStatusCode", default)


def _json(body: dict[str, Any], status: int, request_id: str) -> Response:
    try:
        text = json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate somewhere: escaped, it is still valid JSON
        text = json.dumps(body).encode("ascii")
    return Response(
        text,
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )


def _error(error: ServiceError, request_id: str) -> Response:
    return _json(error.body(), _status_for(error.code, error.status), request_id)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused (413) as soon as it is known to be over `limit` bytes: never read whole."""

    def too_large(size: str) -> _BadRequest:
        return _BadRequest(
            ServiceError(
                "RequestEntityTooLargeException",
                f"The request body is {size} bytes; the limit is {limit} bytes.",
                status=413,
            )
        )

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(declared)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(f"more than {limit}")
        chunks.append(chunk)
    return b"".join(chunks)


class _NotJson(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, JSON (and AWS) has no such values."""


def _not_json(name: str) -> Any:
    raise _NotJson(name)


def _parse(raw: bytes) -> Any:
    """The request's JSON, or SerializationException for anything that is not valid JSON of valid text."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_not_json)
    except _NotJson as exc:
        raise _BadRequest(
            ServiceError("SerializationException", f"The request body is not valid JSON: {exc} is not a JSON value.")
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _BadRequest(ServiceError("SerializationException", "The request body is not valid JSON.")) from None
    except RecursionError:
        raise _BadRequest(ServiceError("SerializationException", "The request body is nested too deeply.")) from None
    except ValueError:
        # An integer literal longer than Python converts (4,300 digits: sys.get_int_max_str_digits()), in any
        # member, known or not; no member of the model holds more than a 64-bit integer.
        raise _BadRequest(
            ServiceError(
                "SerializationException",
                f"The request body holds a number of more than {sys.get_int_max_str_digits():,} digits.",
            )
        ) from None
    try:
        # JSON may spell a lone UTF-16 surrogate (\ud800), which no UTF-8 text holds: refuse it here, before
        # it reaches a record, a tag or an error message.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise _BadRequest(
            ServiceError(
                "InvalidRequestException",
                "The request is not valid Unicode: it contains an unpaired surrogate (\\ud800-\\udfff).",
            )
        ) from None
    except RecursionError:
        raise _BadRequest(ServiceError("SerializationException", "The request body is nested too deeply.")) from None
    return body


def invoke(env: Environment, ctx: RequestContext, name: str, body: Any) -> dict[str, Any]:
    """Run operation `name` for the caller `ctx` on a request body: validated against botocore's model, then
    its handler. The one way in to the service for the wire and for the console's pages alike."""
    params = model.validate_request(name, body)
    shape = model.service_model().operation_model(name).input_shape
    members = {member: params.get(member) for member in (shape.members if shape is not None else ())}
    members.pop("ClientRequestToken", None)
    ctx = dataclasses.replace(ctx, members=members)
    handler = OPERATIONS.get(name)
    if handler is None:
        raise ServiceError(
            "NotImplementedException",
            f"The operation {name} is not implemented by this OpenComprehend server.",
            status=501,
        )
    return handler(env, ctx, **{snake_case(key): value for key, value in params.items()})


def build_app(
    env: Environment, lifespan_hooks: list[Callable[[], Any]] | None = None, pages: list[BaseRoute] | None = None
) -> Starlette:
    """The API on `POST /`, /health and /metrics; `pages` are more routes served beside them (the console)."""
    settings = env.settings
    credentials = env.credentials

    def authenticate(request: Request, raw: bytes) -> Identity:
        if settings.auth == "sigv4":
            assert credentials is not None
            return verify_sigv4(request.method, request.url.path, request.url.query, request.headers, raw, credentials)
        return development_identity(request.headers, settings.account_id, settings.region)

    counters = env.metrics
    metrics.register(env)

    async def dispatch(request: Request) -> Response:
        """Answer one API request, counted (operation, status, time) and logged under its request id."""
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        target = request.headers.get("x-amz-target", "")
        prefix, _, name = target.partition(".")
        known = prefix == model.target_prefix() and name in model.operation_names()
        # Only the model's operation names label the metrics: a client's made-up target must not add series.
        operation = name if known else "UnknownOperation"
        logs.request_id.set(request_id)
        logs.operation.set(operation)
        status = 500  # what Starlette answers if something escapes `answer`
        try:
            response = await answer(request, request_id, name if known else None, target)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - started
            counters.requests.labels(operation=operation, status=str(status)).inc()
            counters.request_duration.labels(operation=operation).observe(elapsed)
            access_log.info("%s %d in %.1f ms", operation, status, elapsed * 1000)

    async def answer(request: Request, request_id: str, name: str | None, target: str) -> Response:
        if name is None:
            return _error(
                ServiceError("UnknownOperationException", f"Unknown operation {target or '(none)'}."),
                request_id,
            )
        try:
            raw = await asyncio.wait_for(_read_body(request, settings.max_request_bytes), settings.request_timeout_s)
            identity = authenticate(request, raw)
            logs.account.set(identity.account_id)
            body = _parse(raw)
        except _BadRequest as refused:
            return _error(refused.error, request_id)
        except ServiceError as refused:
            return _error(refused, request_id)
        except TimeoutError:
            return _error(
                ServiceError(
                    "RequestTimeoutException",
                    f"The request body was not received within {settings.request_timeout_s:.0f} seconds.",
                    status=408,
                ),
                request_id,
            )
        except ClientDisconnect:
            return _error(ServiceError("SerializationException", "The request body was cut off."), request_id)
        try:
            ctx = RequestContext(
                account_id=identity.account_id,
                region=identity.region,
                partition=settings.partition,
                request_id=request_id,
            )
            if isinstance(body, dict) and isinstance(body.get("JobId"), str):
                logs.job_id.set(body["JobId"])
            result = await run_in_threadpool(invoke, env, ctx, name, body)
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

    async def health(_request: Request) -> Response:
        """200 when the job store answers and every worker is up; 503 otherwise (for a load balancer)."""
        report = await run_in_threadpool(env.health)
        return _json(report, 200 if report["Status"] == "OK" else 503, str(uuid.uuid4()))

    async def metrics_page(_request: Request) -> Response:
        """This node's metrics in Prometheus' text format (docs/operations.md); no auth, as /health."""
        body = await run_in_threadpool(metrics.exposition, env)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    async def http_error(request: Request, exc: Exception) -> Response:
        # Starlette's own answers (no such path, wrong method) in AWS's form too.
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = f"No operation at {request.method} {request.url.path}; Comprehend operations are POST /."
        return _error(ServiceError("UnknownOperationException", message, status=status), str(uuid.uuid4()))

    return Starlette(
        routes=[
            Route("/", dispatch, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            *(pages or []),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
