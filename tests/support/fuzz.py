"""Requests derived from botocore's comprehend service model with hypothesis, then mutated.

`request()` draws an operation this server implements and a body for it: either valid by the model's
shapes (required members, enums, lengths, ranges) or broken in one of the ways clients and attackers
break them (a member dropped, a member of the wrong JSON type, an unknown member, a huge or hostile
string, arbitrary JSON instead of an object). Used by tests/unit/test_fuzz.py and bench/fuzz.py.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

from opencomprehend.api import model
from opencomprehend.service.registry import OPERATIONS

MAX_LIST = 3
HOSTILE_STRINGS = [
    "", "\u0000", "../../etc/passwd", "s3://../..", "file:///etc/passwd#s3://abc", "%2e%2e/%2e%2e/",
    "\ud800", "\udfff\ud800", "x" * 70_000, "{" * 5_000, "'; DROP TABLE entities_detection_jobs; --",
    "arn:aws:comprehend:us-east-1:999999999999:entity-recognizer/x", "\u202e\u0301🏳️‍🌈", "null",
]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


def _string(shape: Shape) -> st.SearchStrategy[str]:
    if shape.enum:
        return st.sampled_from(list(shape.enum))
    low = shape.metadata.get("min", 0)
    high = min(shape.metadata.get("max", 64), 64)
    plain = st.text(min_size=low, max_size=max(low, high))
    pattern = shape.metadata.get("pattern")
    if pattern and "\\p" not in pattern:
        try:
            re.compile(pattern)
            matching = st.from_regex(f"^(?:{pattern})$", fullmatch=True).filter(lambda s: low <= len(s) <= 2048)
            return st.one_of(matching, plain)
        except re.error:
            pass
    return plain


def from_shape(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if depth > 6:
        return st.none()
    if kind == "structure":
        required = {name: from_shape(shape.members[name], depth + 1) for name in shape.required_members}
        optional = {
            name: from_shape(member, depth + 1)
            for name, member in shape.members.items()
            if name not in shape.required_members
        }
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        low = shape.metadata.get("min", 0)
        return st.lists(from_shape(shape.member, depth + 1), min_size=low, max_size=max(low, MAX_LIST))
    if kind == "map":
        return st.dictionaries(from_shape(shape.key, depth + 1), from_shape(shape.value, depth + 1), max_size=3)
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long"):
        return st.integers(shape.metadata.get("min", -(2**31)), shape.metadata.get("max", 2**31))
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        # Epoch seconds, a JSON number, as AWS JSON 1.1 sends them (an ISO string is a wrong type: "retype").
        return st.one_of(st.integers(0, 2**33), st.floats(0, 2**33))
    if kind == "blob":
        return st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode())
    return json_values


@st.composite
def _mutated(draw: st.DrawFn, body: dict[str, Any]) -> Any:
    how = draw(st.sampled_from(["drop", "retype", "unknown", "hostile", "replace"]))
    body = dict(body)
    if how == "replace":
        return draw(json_values)
    if how == "unknown":
        body[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
        return body
    if not body:
        return draw(json_values)
    key = draw(st.sampled_from(sorted(body)))
    if how == "drop":
        del body[key]
    elif how == "retype":
        body[key] = draw(json_values)
    else:
        body[key] = draw(st.sampled_from(HOSTILE_STRINGS))
    return body


def implemented() -> list[str]:
    return sorted(name for name in OPERATIONS if name in model.operation_names())


@st.composite
def request(draw: st.DrawFn) -> tuple[str, Any]:
    """(operation, body): a body valid by the model, or one broken on purpose."""
    name = draw(st.sampled_from(implemented()))
    valid = draw(from_shape(model.operation(name).input_shape))
    body = draw(st.one_of(st.just(valid), _mutated(valid)))
    return name, body
