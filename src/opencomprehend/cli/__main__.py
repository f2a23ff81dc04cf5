"""`python -m opencomprehend.cli`: the `opencomprehend` command."""

from opencomprehend.cli import app

app()
