"""The operator console at /console: server-rendered pages over the same operations as the API.

Every page asks the service layer (api.app.invoke: the operation's model validation, then its handler, for
the signed-in account), so the console shows exactly what `aws comprehend` would, and is never a second
source of truth. Pages are Jinja2 templates with autoescaping; one small script (static/console.js) adds
live progress and tabs; everything is served from the package (no CDN, no build step). Every response
carries a Content-Security-Policy that allows no inline script or style.

This module: the routes, sign-in and sign-out. console/ui.py: what pages share; console/jobs.py and
console/resources.py: the pages.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from opencomprehend.config import REGION_PATTERN
from opencomprehend.console import jobs, resources, session
from opencomprehend.console.ui import HERE, Console, local_path
from opencomprehend.service.registry import Environment


def console_routes(env: Environment, sign_outs: session.SignOuts | None = None) -> list[BaseRoute]:
    """The console's routes: /console and everything under it, and `GET /` sending a browser there.
    `sign_outs`: where signed-out sessions are kept (with sigv4)."""

    async def home(_request: Request) -> Response:
        return RedirectResponse("/console", status_code=303)

    return [Route("/", home, methods=["GET"]), *build_console(Console(env, sign_outs))]


def _region_ok(region: str) -> bool:
    return len(region) <= 32 and re.fullmatch(REGION_PATTERN, region) is not None


def build_console(ui: Console) -> list[BaseRoute]:
    """/console's routes: the pages (console/jobs.py, console/resources.py), sign-in and -out, the static
    files, and a page for any other address."""

    async def signin(request: Request) -> Response:
        if not ui.sigv4:
            return RedirectResponse("/console", status_code=303)
        target = local_path(request.query_params.get("next"))
        error = None
        status = 200
        if request.method == "POST":
            form = await request.form()
            target = local_path(str(form.get("next") or ""))
            if not session.csrf_ok(ui.env.secret, request, str(form.get("csrf") or "")):
                error, status = "The form's security token is missing or stale; try again.", 403
            else:
                assert ui.env.credentials is not None
                key, secret = str(form.get("access_key_id") or ""), str(form.get("secret_access_key") or "")
                region = str(form.get("region") or ui.settings.region).strip()
                credential = await run_in_threadpool(session.check_sign_in, ui.env.credentials, key, secret)
                if credential is None:
                    error, status = "The access key id or the secret access key is not right.", 401
                elif not _region_ok(region):
                    error, status = f"{region!r} is not a region name.", 400
                else:
                    response = RedirectResponse(target, status_code=303)
                    session.set_session(request, response, session.session_cookie(ui.env.secret, key.strip(), region))
                    return ui.headers(request, response)
        response = ui.render(
            request, "signin.html", status, viewer=None, error=error, next=target, region=ui.settings.region
        )
        return ui.headers(request, response)

    async def signout(request: Request) -> Response:
        form = await request.form()
        if not session.csrf_ok(ui.env.secret, request, str(form.get("csrf") or "")):
            return ui.headers(
                request,
                ui.render(
                    request,
                    "error.html",
                    403,
                    viewer=None,
                    title="Refused",
                    message="The form's security token is missing or stale.",
                ),
            )
        viewer = ui.viewer_or_none(request)
        if ui.sign_outs is not None and viewer is not None and viewer.session_id and viewer.expires:
            await run_in_threadpool(ui.sign_outs.revoke, viewer.session_id, viewer.expires)
        response = RedirectResponse("/console/signin" if ui.sigv4 else "/console", status_code=303)
        session.clear_session(response)
        return ui.headers(request, response)

    async def not_found(request: Request) -> Response:
        return ui.headers(
            request,
            ui.render(request, "error.html", 404, viewer=ui.viewer_or_none(request), title="Not found",
                   message=f"No console page at {request.url.path}."),
        )  # fmt: skip

    return [
        Route("/console", ui.page(jobs.jobs_page), methods=["GET"]),
        Mount(
            "/console",
            routes=[
                Route("/", ui.page(jobs.jobs_page), methods=["GET"]),
                Route("/jobs/new", ui.page(jobs.job_new), methods=["GET", "POST"]),
                Route("/jobs/{job_id}", ui.page(jobs.job_page), methods=["GET"]),
                Route("/jobs/{job_id}/progress", ui.page(jobs.job_progress), methods=["GET"]),
                Route("/jobs/{job_id}/stop", ui.page(jobs.job_stop), methods=["POST"]),
                Route("/jobs/{job_id}/output.tar.gz", ui.page(jobs.job_archive), methods=["GET"]),
                Route("/jobs/{job_id}/entities.jsonl", ui.page(jobs.job_entities), methods=["GET"]),
                Route("/recognizers", ui.page(resources.recognizers_page), methods=["GET"]),
                Route("/recognizers/{name}", ui.page(resources.recognizer_page), methods=["GET"]),
                Route("/endpoints", ui.page(resources.endpoints_page), methods=["GET"]),
                Route("/endpoints/{name}", ui.page(resources.endpoint_page), methods=["GET"]),
                Route("/analyze", ui.page(resources.analyze_page), methods=["GET", "POST"]),
                Route("/health", ui.page(resources.health_page), methods=["GET"]),
                Route("/signin", signin, methods=["GET", "POST"]),
                Route("/signout", signout, methods=["POST"]),
                Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
                Route("/{rest:path}", not_found),
            ],
        ),
    ]
