"""The `opencomprehend` command."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Annotated

import typer

from opencomprehend.config import Settings

app = typer.Typer(
    help="OpenComprehend: self-hosted Amazon Comprehend entity detection.", no_args_is_help=True
)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8080).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Folder for the job store and local buckets.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default 2).")] = None,
) -> None:
    """Start the API and the workers."""
    import uvicorn

    from opencomprehend.server import create_app

    overrides = {
        key: value
        for key, value in {"host": host, "port": port, "data_dir": data_dir, "workers": workers}.items()
        if value is not None
    }
    settings = Settings(**overrides)
    if not _is_loopback(settings.host):
        # Requests are not authenticated yet, so the service stays on this machine.
        typer.echo(
            f"Refusing to bind {settings.host}: without request authentication this server only binds "
            "loopback addresses (127.0.0.1, ::1).",
            err=True,
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    typer.echo(f"OpenComprehend on http://{settings.host}:{settings.port} (data in {settings.data_dir})")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


@app.command()
def version() -> None:
    """Print the version."""
    from opencomprehend import __version__

    typer.echo(__version__)


if __name__ == "__main__":
    app()
