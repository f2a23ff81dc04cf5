"""The console's job pages: the list, a job with its output, its progress, Stop, the downloads, the form."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from opencomprehend.console import present
from opencomprehend.console.session import Viewer
from opencomprehend.console.ui import (
    KINDS,
    OUTPUT_PAGE,
    PAGE_SIZE,
    STATUSES,
    Console,
    languages,
    local_path,
    parse_day,
)
from opencomprehend.jobs.rows import Job
from opencomprehend.jobs.schema import ENTITIES_JOB, LANGUAGE_JOB, PII_JOB
from opencomprehend.jobs.store import TERMINAL
from opencomprehend.service import job_output
from opencomprehend.service.analysis_jobs import JOB_FAMILIES, list_jobs
from opencomprehend.service.errors import ServiceError
from opencomprehend.service.registry import RequestContext


async def jobs_page(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
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
        "SubmitTimeAfter": parse_day(q.get("after")),
        "SubmitTimeBefore": parse_day(q.get("before"), end_of_day=True),
    }
    members = {key: value for key, value in members.items() if value is not None}
    rows, token = await run_in_threadpool(
        list_jobs, ui.env, ctx, kind, f"console-jobs:{kind or 'ALL'}", members, q.get("page") or None, PAGE_SIZE
    )
    filters = {key: q.get(key, "") for key in ("kind", "status", "name", "after", "before")}
    chosen = {key: value for key, value in filters.items() if value}
    next_url = "/console?" + urlencode({**chosen, "page": token}) if token else None
    return ui.render(
        request, "jobs.html", viewer=viewer, jobs=[_job_row(job) for job in rows], filters=filters,
        statuses=STATUSES, next_url=next_url, first_page=bool(q.get("page")),
    )  # fmt: skip


def _job_row(job: Job) -> dict[str, Any]:
    return {
        "id": job.job_id,
        "name": job.job_name or "",
        "kind": job.job_kind,
        "status": job.status,
        "language": job.language_code or "",
        "recognizer": present.arn_name(job.entity_recognizer_arn),
        "submitted": job.submit_time,
        "ended": job.end_time if job.status in TERMINAL else None,
        "done": job.documents_done,
        "total": job.documents_total,
        "active": job.status not in TERMINAL,
        "stoppable": job.status in ("SUBMITTED", "IN_PROGRESS"),
    }


def describe(ui: Console, ctx: RequestContext, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    row = job_output.find_job(ui.env, ctx, job_id)
    family = JOB_FAMILIES[row.job_kind]
    props = ui.call(ctx, f"Describe{family}Job", {"JobId": job_id})[f"{family}JobProperties"]
    return row, props


async def job_page(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    job_id = request.path_params["job_id"]
    row, props = await run_in_threadpool(describe, ui, ctx, job_id)
    tags = (await run_in_threadpool(ui.call, ctx, "ListTagsForResource", {"ResourceArn": props["JobArn"]}))["Tags"]
    q = request.query_params
    view: dict[str, Any] = {
        "types": [t for t in q.getlist("type") if t],
        "min_score": q.get("min_score", ""),
        "search": q.get("q", ""),
    }
    output = None
    output_error = None
    if row.status == "COMPLETED" or (row.status == "STOPPED" and row.documents_done):
        try:
            start = int(q.get("start", "0") or 0)
            min_score = float(view["min_score"] or 0)
        except ValueError:
            raise ServiceError("InvalidRequestException", "start and min_score must be numbers.") from None
        try:
            output = await run_in_threadpool(
                lambda: job_output.output_page(
                    ui.env, ctx, job_id, max(0, start), OUTPUT_PAGE, types=set(view["types"]) or None,
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
    return ui.render(
        request, "job.html", viewer=viewer, job=_job_row(row), props=props, tags=tags, documents=documents,
        output=output, output_error=output_error, view=view, next_url=next_url,
        type_choices=sorted(types_seen | set(view["types"])), is_pii=row.job_kind == PII_JOB,
        is_language=row.job_kind == LANGUAGE_JOB, config=json.dumps(props, indent=2, default=str),
    )  # fmt: skip


async def job_progress(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    row = await run_in_threadpool(job_output.find_job, ui.env, ctx, request.path_params["job_id"])
    job = _job_row(row)
    return JSONResponse({key: job[key] for key in ("status", "done", "total", "active")})


async def job_stop(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    job_id = request.path_params["job_id"]
    row = await run_in_threadpool(job_output.find_job, ui.env, ctx, job_id)
    family = JOB_FAMILIES[row.job_kind]
    await run_in_threadpool(ui.call, ctx, f"Stop{family}Job", {"JobId": job_id})
    form = await request.form()
    return RedirectResponse(local_path(str(form.get("next") or ""), f"/console/jobs/{job_id}"), status_code=303)


def _download(name: str, chunks: Iterator[bytes], media_type: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


async def job_archive(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    name, chunks = await run_in_threadpool(job_output.archive, ui.env, ctx, request.path_params["job_id"])
    return _download(name, chunks, "application/gzip")


async def job_entities(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    job_id = request.path_params["job_id"]
    lines = await run_in_threadpool(job_output.flat_entities, ui.env, ctx, job_id)
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


def _recognizer_choices(ui: Console, ctx: RequestContext) -> list[dict[str, Any]]:
    found = ui.call(ctx, "ListEntityRecognizers", {"Filter": {"Status": "TRAINED"}, "MaxResults": 100})
    return [
        {"arn": r["EntityRecognizerArn"], "name": present.arn_name(r["EntityRecognizerArn"]),
         "language": r["LanguageCode"]}
        for r in found["EntityRecognizerPropertiesList"]
    ]  # fmt: skip


async def job_new(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    recognizers = await run_in_threadpool(_recognizer_choices, ui, ctx)
    error = None
    if request.method == "POST":
        values = _form_values(await request.form())
        operation, body = _start_request(values)
        try:
            started = await run_in_threadpool(ui.call, ctx, operation, body)
        except ServiceError as refused:
            error = f"{refused.code}: {refused.message}"
        else:
            return RedirectResponse(f"/console/jobs/{quote(started['JobId'])}", status_code=303)
    else:
        values = _form_values({"kind": request.query_params.get("kind", ENTITIES_JOB), "language": "en"})
        values["input_format"] = "ONE_DOC_PER_LINE"
    return ui.render(
        request, "job_new.html", 400 if error else 200, viewer=viewer, values=values, error=error,
        recognizers=recognizers, languages=sorted(languages()),
    )  # fmt: skip
