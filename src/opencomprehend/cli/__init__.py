"""The `opencomprehend` command: `serve` (cli/serve.py), administration (cli/admin.py: credentials, roles,
kms, output), models (cli/models.py: models list, eval, train-language, calibrate-language) and the
operator's view over the API (cli/operator.py: recognizers, endpoints, detect; cli/jobs.py: jobs; both
over cli/client.py, which declares --endpoint-url, --region and --profile once)."""

from __future__ import annotations

import typer

# Each registers its commands on app, in the order --help lists them: serve first.
from opencomprehend.cli import serve  # noqa: F401  # isort: skip
from opencomprehend.cli import admin, models, operator  # noqa: F401  # isort: skip
from opencomprehend.cli.common import app

operator.register(app)

__all__ = ["app"]


@app.command()
def version() -> None:
    """Print the version."""
    from opencomprehend import __version__

    typer.echo(__version__)

