"""The server's log: text lines (the default) or JSON lines (`serve --log-format json`).

What a log line is about travels with the code that writes it, in context variables: the request id that the
API returns in `x-amzn-RequestId`, the caller's account and the operation (api/app.py sets them per request),
and the job id (a request that names one, and a job's run). A filter on the handler copies them into every
record, so any logger's lines carry them, whatever module wrote them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

# Spawned worker processes read the server's log format here (cli.py sets it, whatever set the format).
FORMAT_VARIABLE = "OPENCOMPREHEND_LOG_FORMAT"
ACCESS_LOGGER = "opencomprehend.access"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
account: ContextVar[str | None] = ContextVar("account", default=None)
operation: ContextVar[str | None] = ContextVar("operation", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)

# Record attribute -> the context variable it comes from (also the JSON key).
CONTEXT = {"request_id": request_id, "account": account, "operation": operation, "job_id": job_id}


class ContextFilter(logging.Filter):
    """Copies the context's request id, account, operation and job id into each record (None where unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in CONTEXT.items():
            if getattr(record, name, None) is None:
                setattr(record, name, variable.get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, then what the context knows."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_worker() -> None:
    """A worker process's log: the server's format (the server passes it on in the environment), warnings and
    worse only, as before."""
    log_format = os.environ.get(FORMAT_VARIABLE, "text")
    configure("json" if log_format == "json" else "text", level=logging.WARNING)


def configure(log_format: LogFormat = "text", access_log: bool | None = None, level: int = logging.INFO) -> None:
    """The root logger's one handler, on stderr, in `log_format`; every record passes the context filter.
    `access_log` (a line per API request): by default on with JSON, off with text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    wanted = access_log if access_log is not None else log_format == "json"
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO if wanted else logging.WARNING)
