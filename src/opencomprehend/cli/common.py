"""What every part of the `opencomprehend` command shares: the app, the data folder option, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="OpenComprehend: self-hosted Amazon Comprehend entity detection.", no_args_is_help=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="The server's data folder (default: ./data or $OPENCOMPREHEND_DATA_DIR)."),
]


def _fail(message: str) -> typer.Exit:
    """A one-line error on stderr and exit status 2: what a person at a terminal should see, no traceback."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)
