"""Reading a job's output archive the way a user would: untar it and parse the JSON lines."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any


def read_archive(data: bytes) -> list[dict[str, Any]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = archive.getnames()
        assert members == ["output"], members
        content = archive.extractfile("output").read().decode("utf-8")  # type: ignore[union-attr]
    return [json.loads(line) for line in content.splitlines()]


def check_offsets(records: list[dict[str, Any]], documents: dict[tuple[str, int | None], str]) -> None:
    """Every entity's offsets slice its document to exactly its Text; scores are real probabilities."""
    for record in records:
        text = documents[(record["File"], record.get("Line"))]
        for entity in record.get("Entities", []):
            assert text[entity["BeginOffset"] : entity["EndOffset"]] == entity["Text"], (record, entity)
            assert 0.0 <= entity["Score"] <= 1.0
