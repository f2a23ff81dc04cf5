"""The console's other pages: custom recognizers, endpoints, real-time analysis, health."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from opencomprehend.console import present
from opencomprehend.console.session import Viewer
from opencomprehend.console.ui import MAX_ANALYZE_CHARS, PAGE_SIZE, Console, languages
from opencomprehend.io.objects import NoSuchBucket
from opencomprehend.service.errors import ServiceError
from opencomprehend.service.recognizers import recognizer_arn
from opencomprehend.service.registry import RequestContext


async def recognizers_page(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    body: dict[str, Any] = {"MaxResults": PAGE_SIZE}
    if request.query_params.get("page"):
        body["NextToken"] = request.query_params["page"]
    found = await run_in_threadpool(ui.call, ctx, "ListEntityRecognizers", body)
    rows = [
        {**r, "name": present.arn_name(r["EntityRecognizerArn"]).split(" (")[0]}
        for r in found["EntityRecognizerPropertiesList"]
    ]
    token = found.get("NextToken")
    return ui.render(
        request, "recognizers.html", viewer=viewer, recognizers=rows,
        next_url=f"/console/recognizers?{urlencode({'page': token})}" if token else None,
    )  # fmt: skip


async def recognizer_page(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    name = request.path_params["name"]
    version = request.query_params.get("version") or None
    arn = recognizer_arn(ctx, name, version)
    props = (await run_in_threadpool(ui.call, ctx, "DescribeEntityRecognizer", {"EntityRecognizerArn": arn}))[
        "EntityRecognizerProperties"
    ]
    meta = props.get("RecognizerMetadata") or {}
    rows = [("Overall", meta.get("EvaluationMetrics") or {})]
    rows += [(t.get("Type", ""), t.get("EvaluationMetrics") or {}) for t in meta.get("EntityTypes", [])]
    bars, height = present.metric_bars(rows)
    endpoints = await run_in_threadpool(ui.call, ctx, "ListEndpoints", {"Filter": {"ModelArn": arn}, "MaxResults": 100})
    return ui.render(
        request, "recognizer.html", viewer=viewer, name=name, props=props, meta=meta, bars=bars,
        chart_height=height, endpoints=endpoints["EndpointPropertiesList"],
        config=json.dumps(props.get("InputDataConfig", {}), indent=2),
    )  # fmt: skip


# --------------------------------------------------------------------------------------- endpoints


async def endpoints_page(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    body: dict[str, Any] = {"MaxResults": PAGE_SIZE}
    if request.query_params.get("page"):
        body["NextToken"] = request.query_params["page"]
    found = await run_in_threadpool(ui.call, ctx, "ListEndpoints", body)
    token = found.get("NextToken")
    return ui.render(
        request, "endpoints.html", viewer=viewer, endpoints=found["EndpointPropertiesList"],
        next_url=f"/console/endpoints?{urlencode({'page': token})}" if token else None,
    )  # fmt: skip


async def endpoint_page(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    arn = ctx.arn(f"entity-recognizer-endpoint/{request.path_params['name']}")
    props = (await run_in_threadpool(ui.call, ctx, "DescribeEndpoint", {"EndpointArn": arn}))["EndpointProperties"]
    return ui.render(request, "endpoint.html", viewer=viewer, props=props)


# ---------------------------------------------------------------------------------------- analyze


def _endpoint_choices(ui: Console, ctx: RequestContext) -> list[dict[str, str]]:
    found = ui.call(ctx, "ListEndpoints", {"Filter": {"Status": "IN_SERVICE"}, "MaxResults": 100})
    return [
        {"arn": e["EndpointArn"], "name": present.arn_name(e["EndpointArn"])} for e in found["EndpointPropertiesList"]
    ]


def _analyze(ui: Console, ctx: RequestContext, text: str, language: str, endpoint: str) -> list[dict[str, Any]]:
    results = []
    runs: list[tuple[str, str, dict[str, Any]]] = []
    if endpoint:
        runs.append(("Entities", "DetectEntities", {"Text": text, "EndpointArn": endpoint}))
    else:
        runs.append(("Entities", "DetectEntities", {"Text": text, "LanguageCode": language}))
        runs.append(("PII", "DetectPiiEntities", {"Text": text, "LanguageCode": language}))
    for title, operation, body in runs:
        try:
            answer = ui.call(ctx, operation, body)
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


async def analyze_page(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    endpoints = await run_in_threadpool(_endpoint_choices, ui, ctx)
    values = {"text": "", "language": "en", "endpoint": request.query_params.get("endpoint", "")}
    results = None
    if request.method == "POST":
        form = await request.form()
        values = {key: str(form.get(key) or "") for key in values}
        if len(values["text"]) > MAX_ANALYZE_CHARS:
            raise ServiceError("TextSizeLimitExceededException", f"Paste at most {MAX_ANALYZE_CHARS:,} characters.")
        results = await run_in_threadpool(_analyze, ui, ctx, values["text"], values["language"], values["endpoint"])
    return ui.render(
        request, "analyze.html", viewer=viewer, values=values, results=results, endpoints=endpoints,
        languages=sorted(languages()),
    )  # fmt: skip


# ----------------------------------------------------------------------------------------- health


def _health(ui: Console) -> dict[str, Any]:
    from opencomprehend.nlp.models_file import model_folder
    from opencomprehend.nlp.registry import configured_models, supported_languages

    report = ui.env.health()
    workers = ui.env.runner.worker_stats() if ui.env.runner is not None else None
    objects = "OK"
    try:
        if ui.env.objects is not None:
            # A bucket nobody makes: the store answering NoSuchBucket is the store answering.
            list(ui.env.objects.list_objects("opencomprehend-health-check", ""))
    except NoSuchBucket:
        pass
    except Exception as exc:  # noqa: BLE001  (shown, whatever the store says)
        objects = f"UNAVAILABLE: {type(exc).__name__}"
    installed = supported_languages()
    models = []
    for language, choice in sorted(configured_models().items()):
        folder = model_folder(choice.model)  # a folder, or an installed package's folder
        source = folder / "source.json" if folder is not None else None
        description = ""
        if source is not None and source.is_file():
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
                "preloaded": language in ui.settings.preload_languages,
            }
        )
    return {"report": report, "workers": workers, "objects": objects, "models": models}


async def health_page(ui: Console, request: Request, viewer: Viewer, ctx: RequestContext) -> Response:
    health = await run_in_threadpool(_health, ui)
    return ui.render(request, "health.html", viewer=viewer, runtime=ui.settings.runtime, **health)
