"""DetectEntities and BatchDetectEntities: entities in the text of the request itself.

The work runs on the warm workers (`env.runner.recognise`), never in the API process and never with a
model loaded for the request; the handler, on one of Starlette's threadpool threads, waits for it.

Decisions where the spec leaves room (section 11; docs/detect.md says the same for users):

- DetectEntities without LanguageCode and without EndpointArn (gap 11) is InvalidRequestException,
  not ValidationException. The model makes LanguageCode optional because an endpoint brings its own
  language, so what is broken is a combination of members, as with Text and Bytes, and that is what
  InvalidRequestException reports; botocore raises it as client.exceptions.InvalidRequestException.
- `Bytes` (semi-structured documents for custom endpoints) is not supported: InvalidRequestException.
- A BatchDetectEntities item over the size limit fails the whole request with
  TextSizeLimitExceededException, as observed on AWS (gap 10). ErrorList holds the documents the model
  failed on, with the code and message of AWS's own example.
- Throttling (gap 8): past `detect_tps` requests per second per account and region, the answer is
  ThrottlingException (HTTP 400), which every SDK retry mode retries. A batch counts as one request.
- Checks run in this order: throttle, request members (Text/Bytes, endpoint, language given), sizes,
  whether the language has a model.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from opencomprehend.nlp.registry import UnsupportedLanguage, supported_languages
from opencomprehend.runtime.runner import EngineRef, Runner, WorkerLost, entities_engine
from opencomprehend.service.endpoints import endpoint_engine
from opencomprehend.service.errors import ServiceError, invalid_request
from opencomprehend.service.registry import Environment, RequestContext, operation

log = logging.getLogger("opencomprehend.detect")

# AWS's own example of a per-document failure in BatchDetectEntities.
ITEM_ERROR_CODE = "InternalServerException"
ITEM_ERROR_MESSAGE = "Unexpected Server Error. Please try again."

Entities = list[dict[str, Any]]
# Texts -> one entity list per text, or None for a text the model failed on.
Recognise = Callable[[list[str]], list[Entities | None]]


# ------------------------------------------------------------------------------------------------ checks


def _utf8_size(text: str) -> int:
    # The wire refuses lone surrogates (api/app.py), so every text here encodes.
    return len(text.encode("utf-8"))


def check_size(text: str, limit: int) -> None:
    size = _utf8_size(text)
    if size > limit:
        raise ServiceError(
            "TextSizeLimitExceededException",
            "Input text size exceeds limit. Max length of request text allowed is "
            f"{limit} bytes while in this request the text size is {size} bytes",
        )


def _unsupported(language: str) -> ServiceError:
    installed = ", ".join(sorted(supported_languages())) or "none"
    return ServiceError(
        "UnsupportedLanguageException",
        f"The language '{language}' is not supported: no entity model for it is installed on this server "
        f"(installed: {installed}).",
    )


def check_language(language: str) -> None:
    if language not in supported_languages():
        raise _unsupported(language)


# ------------------------------------------------------------------------------------------------ running


def internal_error() -> ServiceError:
    return ServiceError("InternalServerException", ITEM_ERROR_MESSAGE, status=500)


def _runner(env: Environment) -> Runner:
    runner = env.runner
    if runner is None:
        log.error("DetectEntities needs a runner, and this environment has none")
        raise internal_error()
    return runner


def _result(future: Future[list[Entities | None]], engine: EngineRef, attempt: int = 1) -> list[Entities | None] | None:
    """The future's entity lists; None if its worker was lost."""
    try:
        return future.result()
    except WorkerLost as exc:
        log.warning("a detect request lost its worker (attempt %d): %s", attempt, exc)
        return None
    except UnsupportedLanguage:
        # Installed when the request was checked, gone in the worker: still the caller's answer.
        raise _unsupported(engine.language) from None


def recognise_on_workers(
    env: Environment, engine: EngineRef, texts: list[str], account: str = ""
) -> list[Entities | None]:
    """Run on the warm workers, queued fairly among accounts (`account`); a worker lost under the request
    gets one retry on a fresh one."""
    runner = _runner(env)
    for attempt in (1, 2):
        found = _result(runner.recognise(engine, texts, account=account), engine, attempt)
        if found is not None:
            return found
    raise internal_error()


def recognise_in_pieces(env: Environment, engine: EngineRef, text: str, account: str, size: int) -> Entities | None:
    """The entities of one long text, recognised as pieces of about `size` characters cut at line and
    sentence ends, each its own task on the workers (offsets rebased onto `text`).

    A request's work then comes in bounded portions: the pool queues each portion fairly among accounts,
    so one account's heavy requests hold no worker for long while another account's request waits, and an
    idle server works on the pieces of one request side by side. A piece lost with its worker is retried
    once, as a whole request is.
    """
    pieces = text_pieces(text, size)
    runner = _runner(env)
    futures = [runner.recognise(engine, [piece], account=account) for _, piece in pieces]
    entities: Entities = []
    for (offset, piece), future in zip(pieces, futures, strict=True):
        found = _result(future, engine)
        if found is None:
            [found_piece] = recognise_on_workers(env, engine, [piece], account)
        else:
            [found_piece] = found
        if found_piece is None:
            return None
        entities += [
            {**e, "BeginOffset": e["BeginOffset"] + offset, "EndOffset": e["EndOffset"] + offset} for e in found_piece
        ]
    return entities


def text_pieces(text: str, size: int) -> list[tuple[int, str]]:
    """(offset, piece) that tile `text`, each of at most `size` characters, cut after the last line break
    of its second half, else after a sentence's end, else after a space, else where the size ends."""
    pieces = []
    begin = 0
    while len(text) - begin > size:
        floor, end = begin + size // 2, begin + size
        cut = text.rfind("\n", floor, end)
        if cut < 0:
            cut = max(text.rfind(mark, floor, end - 1) for mark in (". ", "! ", "? ", "。", "！", "？"))
            cut = cut + 1 if cut >= 0 else max(text.rfind(" ", floor, end), text.rfind("\t", floor, end))
        cut = end if cut < 0 else cut + 1
        pieces.append((begin, text[begin:cut]))
        begin = cut
    pieces.append((begin, text[begin:]))
    return pieces


def _endpoint_engine(env: Environment, ctx: RequestContext, endpoint_arn: str) -> Recognise:
    """How DetectEntities recognises with a custom recognizer endpoint: its model, on the warm workers.

    ResourceNotFoundException if the endpoint is not the caller's, ResourceUnavailableException if it
    is not IN_SERVICE or its model is gone.
    """
    key = endpoint_engine(env, ctx, endpoint_arn)
    return functools.partial(recognise_on_workers, env, key, account=ctx.account_id)


# ---------------------------------------------------------------------------------------------- operations


@operation("DetectEntities", lane="detect")
def detect_entities(
    env: Environment,
    ctx: RequestContext,
    *,
    text: str | None = None,
    language_code: str | None = None,
    endpoint_arn: str | None = None,
    bytes: bytes | None = None,  # noqa: A002  (the member's name)
    document_reader_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if bytes is not None:
        if text is not None:
            raise invalid_request("Specify either Text or Bytes, not both.")
        needs_endpoint = "" if endpoint_arn else " Bytes is accepted only together with an EndpointArn."
        raise invalid_request(
            "Semi-structured documents (Bytes: PDF, Word or image files) are not supported by this server; "
            f"send the document's text in Text.{needs_endpoint}"
        )
    if text is None:
        raise invalid_request("Specify either Text or Bytes.")
    recognise: Recognise
    if endpoint_arn is not None:
        # An endpoint's model fixes the language, so LanguageCode is ignored (spec 2.2).
        recognise = _endpoint_engine(env, ctx, endpoint_arn)
        check_size(text, env.settings.max_detect_bytes)
    else:
        if language_code is None:
            raise invalid_request("LanguageCode is required when no EndpointArn is given.")
        check_size(text, env.settings.max_detect_bytes)
        check_language(language_code)
        recognise = functools.partial(
            recognise_on_workers, env, entities_engine(language_code), account=ctx.account_id
        )
    [entities] = recognise([text])
    if entities is None:
        raise internal_error()
    if endpoint_arn is not None:
        # The endpoint's use (metrics.py): the inference units are characters a second, as Comprehend's are.
        env.metrics.endpoint_used(endpoint_arn, len(text))
    return {"Entities": entities}


@operation("BatchDetectEntities", lane="detect")
def batch_detect_entities(
    env: Environment, ctx: RequestContext, *, text_list: list[str], language_code: str
) -> dict[str, Any]:
    check_batch(env, text_list)
    check_language(language_code)
    return batch_answer(
        recognise_on_workers(env, entities_engine(language_code), text_list, ctx.account_id), "Entities"
    )


def check_batch(env: Environment, text_list: list[str]) -> None:
    """A batch's limits: how many items (BatchSizeLimitExceededException), then each item's size."""
    limit = env.settings.max_batch_items
    if len(text_list) > limit:
        raise ServiceError(
            "BatchSizeLimitExceededException",
            f"Please use a smaller number of items in a single batch. Maximum batch size is {limit}.",
        )
    for text in text_list:
        check_size(text, env.settings.max_batch_item_bytes)


def batch_answer(found: list[Any | None], member: str) -> dict[str, Any]:
    """A Batch operation's answer: each item's result under `member` in ResultList, or, where the model
    failed on it (None), AWS's per-item error in ErrorList."""
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, result in enumerate(found):
        if result is None:
            errors.append({"Index": index, "ErrorCode": ITEM_ERROR_CODE, "ErrorMessage": ITEM_ERROR_MESSAGE})
        else:
            results.append({"Index": index, member: result})
    return {"ResultList": results, "ErrorList": errors}
