"""What every console page shares: the templates, the signed-in viewer, the way to the service, the headers.

`Console` is built once per app (console/app.py). A page handler is `async def handler(ui, request, viewer,
ctx)`; `Console.page` wraps it: the viewer (or a redirect to the sign-in page), the CSRF check of a POST,
the API's errors shown as a page, a fault of ours logged and shown with a request id, and the security
headers on every answer. `Console.call` is the one way in to the service: api.app.invoke, as the wire.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from opencomprehend import __version__
from opencomprehend.api.app import invoke
from opencomprehend.console import present, session
from opencomprehend.console.session import SignOuts, Viewer
from opencomprehend.jobs.schema import ENTITIES_JOB, LANGUAGE_JOB, PII_JOB
from opencomprehend.service.errors import ServiceError
from opencomprehend.service.registry import Environment, RequestContext

log = logging.getLogger("opencomprehend.console")
HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_SIZE = 25
OUTPUT_PAGE = 20
KINDS = {ENTITIES_JOB: "Entities", PII_JOB: "PII", LANGUAGE_JOB: "Dominant language"}
STATUSES = ("SUBMITTED", "IN_PROGRESS", "COMPLETED", "FAILED", "STOP_REQUESTED", "STOPPED")
MAX_ANALYZE_CHARS = 20_000

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters.update(
    when=present.when,
    arn_name=present.arn_name,
    colour=present.colour,
)
_templates.globals.update(duration=present.duration, KINDS=KINDS, version=__version__)


class SignInNeeded(Exception):
    pass


def parse_day(value: str | None, end_of_day: bool = False) -> float | None:
    if not value:
        return None
    try:
        day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise ServiceError("InvalidFilterException", f"{value!r} is not a date (YYYY-MM-DD).") from None
    return (day + dt.timedelta(days=1) if end_of_day else day).timestamp()


def local_path(target: str | None, default: str = "/console") -> str:
    """A redirect target only within the console (never another site)."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return default


Handler = Callable[["Console", Request, Viewer, RequestContext], Awaitable[Response]]


class Console:
    def __init__(self, env: Environment, sign_outs: SignOuts | None) -> None:
        self.env = env
        self.settings = env.settings
        self.sigv4 = env.settings.auth == "sigv4"
        self.sign_outs = sign_outs

    def viewer_of(self, request: Request) -> Viewer:
        if not self.sigv4:
            return Viewer(self.settings.account_id, self.settings.region, None)
        assert self.env.credentials is not None
        viewer = session.read_session(
            self.env.secret, request.cookies.get(session.SESSION_COOKIE), self.env.credentials, self.sign_outs
        )
        if viewer is None:
            raise SignInNeeded
        return viewer

    def context_of(self, viewer: Viewer) -> RequestContext:
        return RequestContext(viewer.account_id, viewer.region, self.settings.partition, str(uuid.uuid4()))

    def call(self, ctx: RequestContext, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        return invoke(self.env, ctx, operation, body)

    def render(self, request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        viewer = values.pop("viewer", None)
        page = _templates.get_template(template).render(
            request=request,
            viewer=viewer,
            sigv4=self.sigv4,
            csrf=session.csrf_token(self.env.secret, request),
            path=request.url.path,
            **values,
        )
        return HTMLResponse(page, status_code=status)

    def page(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """A console route: the viewer (or the sign-in page), service errors shown as a page, the headers."""

        async def route(request: Request) -> Response:
            try:
                viewer = self.viewer_of(request)
                if request.method == "POST":
                    form = await request.form()
                    if not session.csrf_ok(self.env.secret, request, str(form.get("csrf") or "")):
                        response: Response = self.render(
                            request, "error.html", 403, viewer=viewer, title="Refused",
                            message="The form's security token is missing or stale. Reload the page and try again.",
                        )  # fmt: skip
                        return self.headers(request, response)
                response = await handler(self, request, viewer, self.context_of(viewer))
            except SignInNeeded:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"/console/signin?{urlencode({'next': target})}", status_code=303)
            except ServiceError as error:
                status = 404 if error.code.endswith("NotFoundException") else 400
                response = self.render(
                    request, "error.html", status, viewer=self.viewer_or_none(request), title=error.code,
                    message=error.message,
                )  # fmt: skip
            except Exception:
                # A fault of ours: logged with its stack, answered as a page that says so (never a bare 500).
                request_id = str(uuid.uuid4())
                log.exception("console: internal error on %s %s (%s)", request.method, request.url.path, request_id)
                response = self.render(
                    request, "error.html", 500, viewer=None, title="Internal error",
                    message=f"An internal error occurred. Request id {request_id}.",
                )  # fmt: skip
            return self.headers(request, response)

        return route

    def viewer_or_none(self, request: Request) -> Viewer | None:
        try:
            return self.viewer_of(request)
        except SignInNeeded:
            return None

    def headers(self, request: Request, response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        session.remember_csrf(request, response)
        return response


def languages() -> set[str]:
    """The languages this server has entity models for (the forms' choices)."""
    from opencomprehend.nlp.registry import supported_languages

    return supported_languages()
