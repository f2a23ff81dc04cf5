"""The examples a new user copies from the README and docs/ point at the service as it starts by default."""

from __future__ import annotations

import re
from pathlib import Path

from opencomprehend.config import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_local_endpoint_url_in_the_docs_is_the_services_default_port() -> None:
    # Issue 17, item 13: docs/pii.md's first example used port 4566 (LocalStack's); the service's is 8080.
    port = Settings().port
    found = []
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            found += [
                (f"{page.name}:{number}", int(url_port))
                for url_port in re.findall(r"https?://(?:127\.0\.0\.1|localhost|0\.0\.0\.0):(\d+)", line)
            ]
    assert found, "the README shows the endpoint URL"
    assert [where for where, used in found if used != port] == []
