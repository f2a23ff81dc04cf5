"""`opencomprehend serve`: settings, the listening socket, the app under uvicorn."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from opencomprehend import logs
from opencomprehend.cli.common import _fail, app
from opencomprehend.config import Settings
from opencomprehend.jobs.errors import StoreUnavailable, describe_database_error
from opencomprehend.runtime.runner import SchedulerUnreachable


def _listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound before anything slow starts (port 0: the system picks one)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[
        0
    ]
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and without
    # it every answer waits on Nagle and delayed ACKs (about 40 ms a request).
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    return listener


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port to listen on (default 8080; 0 picks a free one).")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the job store and local buckets (default: ./data, in the folder serve is started "
            "from, or $OPENCOMPREHEND_DATA_DIR)."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default 2).")] = None,
    auth: Annotated[
        str | None,
        typer.Option(
            help="development (default: no signature checks, loopback only) or sigv4 (every request verified "
            "against `opencomprehend credentials`)."
        ),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(help="Where shards run: local (default: this node's warm worker processes) or dask."),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="The Dask scheduler's address for --runtime dask (tcp://host:port).")
    ] = None,
    models: Annotated[
        Path | None,
        typer.Option(
            help="The models file (TOML): per language an engine, a model and a label map, over the shipped "
            "models (default: $OPENCOMPREHEND_MODELS; docs/models.md)."
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            help="text (default) or json: one JSON object a line, with the request id, account, operation and "
            "job id where known (or $OPENCOMPREHEND_LOG_FORMAT; docs/operations.md)."
        ),
    ] = None,
) -> None:
    """Start the API and the workers."""
    import pydantic
    import uvicorn

    from opencomprehend.api.http import uvicorn_options
    from opencomprehend.server import create_app

    overrides = {
        key: value
        for key, value in {
            "host": host,
            "port": port,
            "data_dir": data_dir,
            "workers": workers,
            "auth": auth,
            "runtime": runtime,
            "dask_scheduler": scheduler,
            "models": models,
            "log_format": log_format,
        }.items()
        if value is not None
    }
    try:
        settings = Settings(**overrides)
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        if len(errors) == 1 and not errors[0]["loc"]:  # a rule over several settings: its message alone
            raise _fail(str(errors[0]["msg"]).removeprefix("Value error, ")) from None
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in errors)
        raise _fail(f"invalid setting ({problems})") from None
    try:
        listener = _listen(settings.host, settings.port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise _fail(f"cannot listen on {settings.host}:{settings.port}: {reason}") from None
    logs.configure(settings.log_format, settings.access_log)
    os.environ[logs.FORMAT_VARIABLE] = settings.log_format  # the worker processes log alike (runtime/worker.py)
    if settings.runtime == "dask" and not settings.dask_scheduler:
        listener.close()
        raise _fail("--runtime dask needs the Dask scheduler's address: --scheduler tcp://host:port")
    if settings.models:
        from opencomprehend.nlp.models_file import ModelsFileError, check_models, read_models_file

        try:
            # Every configured model is loaded once now: a model that cannot load stops the start, by language.
            check_models(read_models_file(settings.models))
        except ModelsFileError as exc:
            listener.close()
            raise _fail(str(exc)) from None
    try:
        application = create_app(settings)
    except (SchedulerUnreachable, StoreUnavailable) as exc:  # each says what it could not reach, by address
        listener.close()
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        listener.close()
        raise _fail(describe_database_error(settings.resolved_database_url(), exc)) from None
    except ValueError as exc:  # settings that do not fit together (e.g. TLS toward the Dask cluster)
        listener.close()
        raise _fail(str(exc)) from None
    except OSError as exc:
        listener.close()
        where = f" ({exc.filename})" if exc.filename else ""
        raise _fail(f"cannot use the data folder {settings.data_dir}: {exc.strerror or exc}{where}") from None
    bound = listener.getsockname()[1]
    json_logs = settings.log_format == "json"
    # With JSON logs every line of stdout and stderr is a JSON object: these lines are log records then.
    say = logging.getLogger("opencomprehend").info if json_logs else typer.echo
    say(f"OpenComprehend on http://{settings.host}:{bound} (data in {settings.data_dir.resolve()})")
    say(f"Console: http://{settings.host}:{bound}/console")
    # log_config None: uvicorn's own loggers (errors) go through our handler, in our format.
    log_config = {"log_config": None} if json_logs else {}
    config = uvicorn.Config(application, log_level="warning", **log_config, **uvicorn_options(settings))
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        # uvicorn re-raises a SIGINT or SIGTERM once it has shut down, so that the exit status tells of it.
        say("OpenComprehend stopped.")
