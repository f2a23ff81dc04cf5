"""The operator console at /console: server-rendered pages over the same operations as the API.

Every page asks the service layer (api.app.invoke: the operation's model validation, then its handler, for
the signed-in account), so the console shows exactly what `aws comprehend` would, and is never a second
source of truth. Pages are Jinja2 templates with autoescaping; one small script (static/console.js) adds
live progress and tabs; everything is served from the package (no CDN, no build step). Every response
carries a Content-Security-Policy that allows no inline script or style.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from opencomprehend import __version__
from opencomprehend.api.app import invoke
from opencomprehend.console import present, session
from opencomprehend.console.session import Viewer
from opencomprehend.jobs.schema import ENTITIES_JOB, LANGUAGE_JOB, PII_JOB
from opencomprehend.jobs.store import TERMINAL
from opencomprehend.service import job_output
from opencomprehend.service.analysis_jobs import JOB_FAMILIES, list_jobs
from opencomprehend.service.errors import ServiceError
from opencomprehend.service.recognizers import recognizer_arn
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
    tojson_pretty=lambda v: json.dumps(v, indent=2, ensure_ascii=False, default=str),
)
_templates.globals.update(duration=present.duration, KINDS=KINDS, version=__version__)


class _SignInNeeded(Exception):
    pass


def _parse_day(value: str | None, end_of_day: bool = False) -> float | None:
    if not value:
        return None
    try:
        day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
    except ValueError:
        raise ServiceError("InvalidFilterException", f"{value!r} is not a date (YYYY-MM-DD).") from None
    return (day + dt.timedelta(days=1) if end_of_day else day).timestamp()


def _local_path(target: str | None, default: str = "/console") -> str:
    """A redirect target only within the console (never another site)."""
    if target and target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def console_routes(env: Environment, sign_outs: session.SignOuts | None = None) -> list[BaseRoute]:
    """The console's routes: /console and everything under it, and `GET /` sending a browser there.
    `sign_outs`: where signed-out sessions are kept (with sigv4)."""

    async def home(_request: Request) -> Response:
        return RedirectResponse("/console", status_code=303)

    return [Route("/", home, methods=["GET"]), *build_console(env, sign_outs)]


def build_console(env: Environment, sign_outs: session.SignOuts | None) -> list[BaseRoute]:
    settings = env.settings
    sigv4 = settings.auth == "sigv4"

    def viewer_of(request: Request) -> Viewer:
        if not sigv4:
            return Viewer(settings.account_id, settings.region, None)
        assert env.credentials is not None
        viewer = session.read_session(
            env.secret, request.cookies.get(session.SESSION_COOKIE), env.credentials, sign_outs
        )
        if viewer is None:
            raise _SignInNeeded
        return viewer

    def context_of(viewer: Viewer) -> RequestContext:
        return RequestContext(viewer.account_id, viewer.region, settings.partition, str(uuid.uuid4()))

    def call(ctx: RequestContext, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        return invoke(env, ctx, operation, body)

    def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        viewer = values.pop("viewer", None)
        page = _templates.get_template(template).render(
            request=request,
            viewer=viewer,
            sigv4=sigv4,
            csrf=session.csrf_token(env.secret, request),
            path=request.url.path,
            **values,
        )
        return HTMLResponse(page, status_code=status)

    def page(
        handler: Callable[[Request, Viewer, RequestContext], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """A console route: the viewer (or the sign-in page), service errors shown as a page, the headers."""

        async def route(request: Request) -> Response:
            try:
                viewer = viewer_of(request)
                if request.method == "POST":
                    form = await request.form()
                    if not session.csrf_ok(env.secret, request, str(form.get("csrf") or "")):
                        response: Response = render(
                            request, "error.html", 403, viewer=viewer, title="Refused",
                            message="The form's security token is missing or stale. Reload the page and try again.",
                        )  # fmt: skip
                        return _headers(request, response)
                response = await handler(request, viewer, context_of(viewer))
            except _SignInNeeded:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(f"/console/signin?{urlencode({'next': target})}", status_code=303)
            except ServiceError as error:
                status = 404 if error.code.endswith("NotFoundException") else 400
                response = render(
                    request, "error.html", status, viewer=viewer_or_none(request), title=error.code,
                    message=error.message,
                )  # fmt: skip
            except Exception:
                # A fault of ours: logged with its stack, answered as a page that says so (never a bare 500).
                request_id = str(uuid.uuid4())
                log.exception("console: internal error on %s %s (%s)", request.method, request.url.path, request_id)
                response = render(
                    request, "error.html", 500, viewer=None, title="Internal error",
                    message=f"An internal error occurred. Request id {request_id}.",
                )  # fmt: skip
            return _headers(request, response)

        return route

    def viewer_or_none(request: Request) -> Viewer | None:
        try:
            return viewer_of(request)
        except _SignInNeeded:
            return None

    def _headers(request: Request, response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        session.remember_csrf(request, response)
        return response

    # ------------------------------------------------------------------------------------------- jobs

    async def jobs_page(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        q = request.query_params
        kind = q.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise ServiceError("InvalidFilterException", f"No job kind {kind!r}.")
        status = q.get("status") or None
        if status is not None and status not in STATUSES:
            raise ServiceError("InvalidFilterException", f"No job status {status!r}.")
        members = {
            "JobName": q.get("name") or None,
            "JobStatus": status,
            "SubmitTimeAfter": _parse_day(q.get("after")),
            "SubmitTimeBefore": _parse_day(q.get("before"), end_of_day=True),
        }
        members = {key: value for key, value in members.items() if value is not None}
        rows, token = await run_in_threadpool(
            list_jobs, env, ctx, kind, f"console-jobs:{kind or 'ALL'}", members, q.get("page") or None, PAGE_SIZE
        )
        filters = {key: q.get(key, "") for key in ("kind", "status", "name", "after", "before")}
        chosen = {key: value for key, value in filters.items() if value}
        next_url = "/console?" + urlencode({**chosen, "page": token}) if token else None
        return render(
            request, "jobs.html", viewer=viewer, jobs=[_job_row(job) for job in rows], filters=filters,
            statuses=STATUSES, next_url=next_url, first_page=bool(q.get("page")),
        )  # fmt: skip

    def _job_row(job: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": job["job_id"],
            "name": job["job_name"] or "",
            "kind": job["job_kind"],
            "status": job["status"],
            "language": job["language_code"] or "",
            "recognizer": present.arn_name(job["entity_recognizer_arn"]),
            "submitted": job["submit_time"],
            "ended": job["end_time"] if job["status"] in TERMINAL else None,
            "done": job["documents_done"],
            "total": job.get("documents_total"),
            "active": job["status"] not in TERMINAL,
            "stoppable": job["status"] in ("SUBMITTED", "IN_PROGRESS"),
        }

    def describe(ctx: RequestContext, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        row = job_output.find_job(env, ctx, job_id)
        family = JOB_FAMILIES[row["job_kind"]]
        props = call(ctx, f"Describe{family}Job", {"JobId": job_id})[f"{family}JobProperties"]
        return row, props

    async def job_page(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        job_id = request.path_params["job_id"]
        row, props = await run_in_threadpool(describe, ctx, job_id)
        tags = (await run_in_threadpool(call, ctx, "ListTagsForResource", {"ResourceArn": props["JobArn"]}))["Tags"]
        q = request.query_params
        view: dict[str, Any] = {
            "types": [t for t in q.getlist("type") if t],
            "min_score": q.get("min_score", ""),
            "search": q.get("q", ""),
        }
        output = None
        output_error = None
        if row["status"] == "COMPLETED" or (row["status"] == "STOPPED" and row["documents_done"]):
            try:
                start = int(q.get("start", "0") or 0)
                min_score = float(view["min_score"] or 0)
            except ValueError:
                raise ServiceError("InvalidRequestException", "start and min_score must be numbers.") from None
            try:
                output = await run_in_threadpool(
                    lambda: job_output.output_page(
                        env, ctx, job_id, max(0, start), OUTPUT_PAGE, types=set(view["types"]) or None,
                        min_score=min_score, search=view["search"] or None,
                    )
                )  # fmt: skip
            except ServiceError as error:
                output_error = error.message
            view["start"] = start
        documents = []
        types_seen: set[str] = set()
        if output is not None:
            for document in output.documents:
                entities = document.entities
                types_seen.update(str(e.get("Type", "")) for e in entities)
                documents.append(
                    {
                        "doc": document,
                        "pieces": present.pieces(document.text, entities) if document.text is not None else None,
                        "legend": present.legend(entities),
                    }
                )
        base = {k: v for k, v in (("q", view["search"]), ("min_score", view["min_score"])) if v}
        query = urlencode([*base.items(), *(("type", t) for t in view["types"])])
        next_url = None
        if output is not None and output.next_start is not None:
            next_url = f"/console/jobs/{quote(job_id)}?{query}{'&' if query else ''}start={output.next_start}#output"
        return render(
            request, "job.html", viewer=viewer, job=_job_row(row), props=props, tags=tags, documents=documents,
            output=output, output_error=output_error, view=view, next_url=next_url,
            type_choices=sorted(types_seen | set(view["types"])), is_pii=row["job_kind"] == PII_JOB,
            is_language=row["job_kind"] == LANGUAGE_JOB, config=json.dumps(props, indent=2, default=str),
        )  # fmt: skip

    async def job_progress(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        row = await run_in_threadpool(job_output.find_job, env, ctx, request.path_params["job_id"])
        job = _job_row(row)
        return JSONResponse({key: job[key] for key in ("status", "done", "total", "active")})

    async def job_stop(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        job_id = request.path_params["job_id"]
        row = await run_in_threadpool(job_output.find_job, env, ctx, job_id)
        family = JOB_FAMILIES[row["job_kind"]]
        await run_in_threadpool(call, ctx, f"Stop{family}Job", {"JobId": job_id})
        form = await request.form()
        return RedirectResponse(_local_path(str(form.get("next") or ""), f"/console/jobs/{job_id}"), status_code=303)

    def _download(name: str, chunks: Iterator[bytes], media_type: str) -> Response:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return StreamingResponse(
            iterate_in_threadpool(chunks),
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{safe}"'},
        )

    async def job_archive(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        name, chunks = await run_in_threadpool(job_output.archive, env, ctx, request.path_params["job_id"])
        return _download(name, chunks, "application/gzip")

    async def job_entities(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        job_id = request.path_params["job_id"]
        lines = await run_in_threadpool(job_output.flat_entities, env, ctx, job_id)
        return _download(f"{job_id}-entities.jsonl", (line.encode() for line in lines), "application/x-ndjson")

    # -------------------------------------------------------------------------------------- create job

    def _form_values(form: Any) -> dict[str, str]:
        names = (
            "kind", "name", "input_uri", "input_format", "output_uri", "kms_key", "role", "language",
            "recognizer", "mode", "volume_kms_key", "pii_types", "mask_mode", "mask_character",
        )  # fmt: skip
        return {name: str(form.get(name) or "").strip() for name in names}

    def _start_request(values: dict[str, str]) -> tuple[str, dict[str, Any]]:
        output: dict[str, Any] = {"S3Uri": values["output_uri"]}
        if values["kms_key"]:
            output["KmsKeyId"] = values["kms_key"]
        body: dict[str, Any] = {
            "InputDataConfig": {"S3Uri": values["input_uri"], "InputFormat": values["input_format"] or None},
            "OutputDataConfig": output,
            "DataAccessRoleArn": values["role"],
            "LanguageCode": values["language"],
            "JobName": values["name"] or None,
            "VolumeKmsKeyId": values["volume_kms_key"] or None,
            "ClientRequestToken": str(uuid.uuid4()),
        }
        if values["kind"] == PII_JOB:
            operation = "StartPiiEntitiesDetectionJob"
            body["Mode"] = values["mode"] or "ONLY_OFFSETS"
            if body["Mode"] == "ONLY_REDACTION":
                types = [t.strip() for t in (values["pii_types"] or "ALL").split(",") if t.strip()]
                redaction: dict[str, Any] = {"PiiEntityTypes": types, "MaskMode": values["mask_mode"] or "MASK"}
                if values["mask_character"]:
                    redaction["MaskCharacter"] = values["mask_character"]
                body["RedactionConfig"] = redaction
        else:
            operation = "StartEntitiesDetectionJob"
            body["EntityRecognizerArn"] = values["recognizer"] or None
        body["InputDataConfig"] = {k: v for k, v in body["InputDataConfig"].items() if v is not None}
        return operation, {key: value for key, value in body.items() if value is not None}

    def _recognizer_choices(ctx: RequestContext) -> list[dict[str, Any]]:
        found = call(ctx, "ListEntityRecognizers", {"Filter": {"Status": "TRAINED"}, "MaxResults": 100})
        return [
            {"arn": r["EntityRecognizerArn"], "name": present.arn_name(r["EntityRecognizerArn"]),
             "language": r["LanguageCode"]}
            for r in found["EntityRecognizerPropertiesList"]
        ]  # fmt: skip

    async def job_new(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        recognizers = await run_in_threadpool(_recognizer_choices, ctx)
        error = None
        if request.method == "POST":
            values = _form_values(await request.form())
            operation, body = _start_request(values)
            try:
                started = await run_in_threadpool(call, ctx, operation, body)
            except ServiceError as refused:
                error = f"{refused.code}: {refused.message}"
            else:
                return RedirectResponse(f"/console/jobs/{quote(started['JobId'])}", status_code=303)
        else:
            values = _form_values({"kind": request.query_params.get("kind", ENTITIES_JOB), "language": "en"})
            values["input_format"] = "ONE_DOC_PER_LINE"
        return render(
            request, "job_new.html", 400 if error else 200, viewer=viewer, values=values, error=error,
            recognizers=recognizers, languages=sorted(_languages()),
        )  # fmt: skip

    def _languages() -> set[str]:
        from opencomprehend.nlp.registry import supported_languages

        return supported_languages()

    # ------------------------------------------------------------------------------------- recognizers

    async def recognizers_page(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        body: dict[str, Any] = {"MaxResults": PAGE_SIZE}
        if request.query_params.get("page"):
            body["NextToken"] = request.query_params["page"]
        found = await run_in_threadpool(call, ctx, "ListEntityRecognizers", body)
        rows = [
            {**r, "name": present.arn_name(r["EntityRecognizerArn"]).split(" (")[0]}
            for r in found["EntityRecognizerPropertiesList"]
        ]
        token = found.get("NextToken")
        return render(
            request, "recognizers.html", viewer=viewer, recognizers=rows,
            next_url=f"/console/recognizers?{urlencode({'page': token})}" if token else None,
        )  # fmt: skip

    async def recognizer_page(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        name = request.path_params["name"]
        version = request.query_params.get("version") or None
        arn = recognizer_arn(ctx, name, version)
        props = (await run_in_threadpool(call, ctx, "DescribeEntityRecognizer", {"EntityRecognizerArn": arn}))[
            "EntityRecognizerProperties"
        ]
        meta = props.get("RecognizerMetadata") or {}
        rows = [("Overall", meta.get("EvaluationMetrics") or {})]
        rows += [(t.get("Type", ""), t.get("EvaluationMetrics") or {}) for t in meta.get("EntityTypes", [])]
        bars, height = present.metric_bars(rows)
        endpoints = await run_in_threadpool(
            call, ctx, "ListEndpoints", {"Filter": {"ModelArn": arn}, "MaxResults": 100}
        )
        return render(
            request, "recognizer.html", viewer=viewer, name=name, props=props, meta=meta, bars=bars,
            chart_height=height, endpoints=endpoints["EndpointPropertiesList"],
            config=json.dumps(props.get("InputDataConfig", {}), indent=2),
        )  # fmt: skip

    # --------------------------------------------------------------------------------------- endpoints

    async def endpoints_page(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        body: dict[str, Any] = {"MaxResults": PAGE_SIZE}
        if request.query_params.get("page"):
            body["NextToken"] = request.query_params["page"]
        found = await run_in_threadpool(call, ctx, "ListEndpoints", body)
        token = found.get("NextToken")
        return render(
            request, "endpoints.html", viewer=viewer, endpoints=found["EndpointPropertiesList"],
            next_url=f"/console/endpoints?{urlencode({'page': token})}" if token else None,
        )  # fmt: skip

    async def endpoint_page(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        arn = ctx.arn(f"entity-recognizer-endpoint/{request.path_params['name']}")
        props = (await run_in_threadpool(call, ctx, "DescribeEndpoint", {"EndpointArn": arn}))["EndpointProperties"]
        return render(request, "endpoint.html", viewer=viewer, props=props)

    # ---------------------------------------------------------------------------------------- analyze

    def _endpoint_choices(ctx: RequestContext) -> list[dict[str, str]]:
        found = call(ctx, "ListEndpoints", {"Filter": {"Status": "IN_SERVICE"}, "MaxResults": 100})
        return [
            {"arn": e["EndpointArn"], "name": present.arn_name(e["EndpointArn"])}
            for e in found["EndpointPropertiesList"]
        ]

    def _analyze(ctx: RequestContext, text: str, language: str, endpoint: str) -> list[dict[str, Any]]:
        results = []
        runs: list[tuple[str, str, dict[str, Any]]] = []
        if endpoint:
            runs.append(("Entities", "DetectEntities", {"Text": text, "EndpointArn": endpoint}))
        else:
            runs.append(("Entities", "DetectEntities", {"Text": text, "LanguageCode": language}))
            runs.append(("PII", "DetectPiiEntities", {"Text": text, "LanguageCode": language}))
        for title, operation, body in runs:
            try:
                answer = call(ctx, operation, body)
            except ServiceError as refused:
                results.append({"title": title, "operation": operation, "error": f"{refused.code}: {refused.message}"})
                continue
            entities = answer.get("Entities", [])
            if operation == "DetectPiiEntities":  # PII entities carry offsets only: their text for the table
                entities = [{**e, "Text": text[e["BeginOffset"] : e["EndOffset"]]} for e in entities]
            results.append(
                {
                    "title": title,
                    "operation": operation,
                    "error": None,
                    "entities": entities,
                    "pieces": present.pieces(text, entities),
                    "legend": present.legend(entities),
                    "json": json.dumps(answer, indent=2, ensure_ascii=False),
                }
            )
        return results

    async def analyze_page(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        endpoints = await run_in_threadpool(_endpoint_choices, ctx)
        values = {"text": "", "language": "en", "endpoint": request.query_params.get("endpoint", "")}
        results = None
        if request.method == "POST":
            form = await request.form()
            values = {key: str(form.get(key) or "") for key in values}
            if len(values["text"]) > MAX_ANALYZE_CHARS:
                raise ServiceError("TextSizeLimitExceededException", f"Paste at most {MAX_ANALYZE_CHARS:,} characters.")
            results = await run_in_threadpool(_analyze, ctx, values["text"], values["language"], values["endpoint"])
        return render(
            request, "analyze.html", viewer=viewer, values=values, results=results, endpoints=endpoints,
            languages=sorted(_languages()),
        )  # fmt: skip

    # ----------------------------------------------------------------------------------------- health

    def _health() -> dict[str, Any]:
        from opencomprehend.nlp.registry import configured_models, supported_languages

        report = env.health()
        stats = getattr(env.runner, "worker_stats", None)
        workers = stats() if callable(stats) else None
        try:
            objects = "OK"
            if env.objects is not None:
                list(env.objects.list_objects("opencomprehend-health-check", ""))
        except Exception as exc:  # noqa: BLE001  (shown, whatever the store says)
            objects = "OK" if "NoSuchBucket" in type(exc).__name__ else f"UNAVAILABLE: {type(exc).__name__}"
        installed = supported_languages()
        models = []
        for language, choice in sorted(configured_models().items()):
            source = Path(str(choice.model)) / "source.json"
            description = ""
            if source.is_file():
                try:
                    description = json.loads(source.read_text()).get("description", "")
                except (OSError, ValueError):
                    description = ""
            models.append(
                {
                    "language": language,
                    "engine": choice.engine,
                    "model": Path(str(choice.model)).name if Path(str(choice.model)).is_absolute() else choice.model,
                    "description": description,
                    "installed": language in installed,
                    "preloaded": language in settings.preload_languages,
                }
            )
        return {"report": report, "workers": workers, "objects": objects, "models": models}

    async def health_page(request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
        health = await run_in_threadpool(_health)
        return render(request, "health.html", viewer=viewer, runtime=settings.runtime, **health)

    # ---------------------------------------------------------------------------------------- sign-in

    async def signin(request: Request) -> Response:
        if not sigv4:
            return RedirectResponse("/console", status_code=303)
        target = _local_path(request.query_params.get("next"))
        error = None
        status = 200
        if request.method == "POST":
            form = await request.form()
            target = _local_path(str(form.get("next") or ""))
            if not session.csrf_ok(env.secret, request, str(form.get("csrf") or "")):
                error, status = "The form's security token is missing or stale; try again.", 403
            else:
                assert env.credentials is not None
                key, secret = str(form.get("access_key_id") or ""), str(form.get("secret_access_key") or "")
                region = str(form.get("region") or settings.region).strip()
                credential = await run_in_threadpool(session.check_sign_in, env.credentials, key, secret)
                if credential is None:
                    error, status = "The access key id or the secret access key is not right.", 401
                elif not _region_ok(region):
                    error, status = f"{region!r} is not a region name.", 400
                else:
                    response = RedirectResponse(target, status_code=303)
                    session.set_session(request, response, session.session_cookie(env.secret, key.strip(), region))
                    return _headers(request, response)
        response = render(request, "signin.html", status, viewer=None, error=error, next=target, region=settings.region)
        return _headers(request, response)

    def _region_ok(region: str) -> bool:
        import re

        from opencomprehend.config import REGION_PATTERN

        return len(region) <= 32 and re.fullmatch(REGION_PATTERN, region) is not None

    async def signout(request: Request) -> Response:
        form = await request.form()
        if not session.csrf_ok(env.secret, request, str(form.get("csrf") or "")):
            return _headers(
                request,
                render(
                    request,
                    "error.html",
                    403,
                    viewer=None,
                    title="Refused",
                    message="The form's security token is missing or stale.",
                ),
            )
        viewer = viewer_or_none(request)
        if sign_outs is not None and viewer is not None and viewer.session_id and viewer.expires:
            await run_in_threadpool(sign_outs.revoke, viewer.session_id, viewer.expires)
        response = RedirectResponse("/console/signin" if sigv4 else "/console", status_code=303)
        session.clear_session(response)
        return _headers(request, response)

    async def not_found(request: Request) -> Response:
        return _headers(
            request,
            render(request, "error.html", 404, viewer=viewer_or_none(request), title="Not found",
                   message=f"No console page at {request.url.path}."),
        )  # fmt: skip

    return [
        Route("/console", page(jobs_page), methods=["GET"]),
        Mount(
            "/console",
            routes=[
                Route("/", page(jobs_page), methods=["GET"]),
                Route("/jobs/new", page(job_new), methods=["GET", "POST"]),
                Route("/jobs/{job_id}", page(job_page), methods=["GET"]),
                Route("/jobs/{job_id}/progress", page(job_progress), methods=["GET"]),
                Route("/jobs/{job_id}/stop", page(job_stop), methods=["POST"]),
                Route("/jobs/{job_id}/output.tar.gz", page(job_archive), methods=["GET"]),
                Route("/jobs/{job_id}/entities.jsonl", page(job_entities), methods=["GET"]),
                Route("/recognizers", page(recognizers_page), methods=["GET"]),
                Route("/recognizers/{name}", page(recognizer_page), methods=["GET"]),
                Route("/endpoints", page(endpoints_page), methods=["GET"]),
                Route("/endpoints/{name}", page(endpoint_page), methods=["GET"]),
                Route("/analyze", page(analyze_page), methods=["GET", "POST"]),
                Route("/health", page(health_page), methods=["GET"]),
                Route("/signin", signin, methods=["GET", "POST"]),
                Route("/signout", signout, methods=["POST"]),
                Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
                Route("/{rest:path}", not_found),
            ],
        ),
    ]
