"""How the console shows things: times, durations, names from ARNs, entities laid over their text."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

# Comprehend's entity types keep one colour each everywhere; other types (PII, a recognizer's own) take one
# of the palette's colours by their name's hash, so a type has the same colour on every page.
TYPE_COLOURS = {
    "PERSON": 0,
    "LOCATION": 1,
    "ORGANIZATION": 2,
    "COMMERCIAL_ITEM": 3,
    "EVENT": 4,
    "DATE": 5,
    "QUANTITY": 6,
    "TITLE": 7,
    "OTHER": 8,
}
PALETTE = 12


def colour(entity_type: str) -> str:
    """The CSS class of a type's colour (c0 … c11)."""
    index = TYPE_COLOURS.get(entity_type)
    if index is None:
        index = int(hashlib.sha256(entity_type.encode()).hexdigest(), 16) % PALETTE
    return f"c{index}"


def when(epoch: Any) -> str:
    """An API timestamp (epoch seconds) as UTC, to the second."""
    if not isinstance(epoch, int | float):
        return ""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(start: Any, end: Any) -> str:
    if not isinstance(start, int | float) or not isinstance(end, int | float) or end < start:
        return ""
    seconds = int(round(end - start))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


def arn_name(arn: Any) -> str:
    """The resource name of an ARN: a recognizer's name (and version), an endpoint's name."""
    if not isinstance(arn, str) or ":" not in arn:
        return ""
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    if len(parts) >= 4 and parts[2] == "version":
        return f"{parts[1]} ({parts[3]})"
    return parts[1] if len(parts) > 1 else resource


@dataclass(frozen=True)
class Piece:
    """A run of a document's text, with the entity it is (None for text between entities)."""

    text: str
    entity: dict[str, Any] | None = None

    @property
    def css(self) -> str:
        return colour(str(self.entity.get("Type", ""))) if self.entity else ""

    @property
    def label(self) -> str:
        if not self.entity:
            return ""
        score = self.entity.get("Score")
        shown = f" {score:.3f}" if isinstance(score, int | float) else ""
        return f"{self.entity.get('Type', '')}{shown}"


def pieces(text: str, entities: list[dict[str, Any]]) -> list[Piece]:
    """The text cut at its entities' offsets (code points, as Comprehend counts them), in order; an entity
    overlapping one already placed, or out of the text's range, is left out of the highlighting."""
    spans = sorted(
        (e for e in entities if isinstance(e.get("BeginOffset"), int) and isinstance(e.get("EndOffset"), int)),
        key=lambda e: (e["BeginOffset"], -e["EndOffset"]),
    )
    out: list[Piece] = []
    at = 0
    for entity in spans:
        begin, end = entity["BeginOffset"], entity["EndOffset"]
        if begin < at or end > len(text) or end <= begin:
            continue
        if begin > at:
            out.append(Piece(text[at:begin]))
        out.append(Piece(text[begin:end], entity))
        at = end
    if at < len(text):
        out.append(Piece(text[at:]))
    return out


def legend(entities: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(type, colour class, count) for each type among the entities, most frequent first."""
    counts: dict[str, int] = {}
    for entity in entities:
        name = str(entity.get("Type", ""))
        counts[name] = counts.get(name, 0) + 1
    return [(name, colour(name), n) for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


@dataclass(frozen=True)
class Bar:
    label: str
    metric: str
    value: float
    x: float
    y: float
    width: float


def metric_bars(rows: list[tuple[str, dict[str, Any]]], width: float = 360.0) -> tuple[list[Bar], float]:
    """An SVG bar chart's bars (drawn by the template, no script): precision, recall and F1 per row, as
    Comprehend gives them (percentages, 0 to 100), each bar `width` long at 100; with the chart's height."""
    bars: list[Bar] = []
    y = 0.0
    for label, metrics in rows:
        for metric in ("Precision", "Recall", "F1Score"):
            value = metrics.get(metric)
            if isinstance(value, int | float):
                share = max(0.0, min(100.0, float(value))) / 100
                bars.append(Bar(label, metric, float(value), 0.0, y, share * width))
            y += 14
        y += 12
    return bars, y
