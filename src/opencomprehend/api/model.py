"""Comprehend's API surface, read from botocore's own service model.

Operation names, members, required fields, lengths, patterns and enums all come from the model, so
nothing is hand-copied. Violations are reported the way AWS's Coral front end reports them:
``1 validation error detected: Value 'xx' at 'languageCode' failed to satisfy constraint: ...``.
"""

from __future__ import annotations

import base64
import binascii
import math
from functools import cache
from typing import Any

import botocore.session
import regex
from botocore.model import OperationModel, ServiceModel, Shape

from opencomprehend.service.errors import ServiceError


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("comprehend")


def target_prefix() -> str:
    return service_model().metadata["targetPrefix"]


def operation_names() -> frozenset[str]:
    return frozenset(service_model().operation_names)


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


@cache
def _pattern(pattern: str) -> regex.Pattern:
    # Smithy patterns are unanchored (search, not full match) and use Java's \p{..} classes.
    return regex.compile(pattern)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


# A value echoed in a validation message is cut to this many characters, so a 10 MB field cannot make a
# 10 MB error.
SHOWN_VALUE_CHARS = 256


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        shown = "[" + ", ".join(str(v)[:SHOWN_VALUE_CHARS] for v in value[:SHOWN_VALUE_CHARS]) + "]"
    else:
        shown = str(value)
    return shown if len(shown) <= SHOWN_VALUE_CHARS else shown[:SHOWN_VALUE_CHARS] + "..."


def _brief(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= SHOWN_VALUE_CHARS else shown[:SHOWN_VALUE_CHARS] + "..."


class _Problems:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, value: Any, path: str, constraint: str, sensitive: bool = False) -> None:
        # As AWS does, a sensitive member (the text of a document) is never echoed: "Value at 'text' ...".
        if sensitive and value is not None:
            self.messages.append(f"Value at '{path}' failed to satisfy constraint: {constraint}")
            return
        shown = "null" if value is None else f"'{_show(value)}'"
        self.messages.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")


def _serialization(message: str) -> ServiceError:
    return ServiceError("SerializationException", message)


def _check_length(value: Any, shape: Shape, path: str, problems: _Problems) -> None:
    size = len(value)
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    sensitive = bool(shape.metadata.get("sensitive"))
    if low is not None and size < low:
        problems.add(value, path, f"Member must have length greater than or equal to {low}", sensitive)
    if high is not None and size > high:
        problems.add(value, path, f"Member must have length less than or equal to {high}", sensitive)


def _timestamp(value: Any, path: str) -> float:
    # AWS JSON 1.1 sends a timestamp as epoch seconds, a JSON number (botocore turns a datetime or an ISO
    # string given to it into one); a string on the wire is the wrong JSON type, as AWS answers it.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _serialization(
            f"Expected a timestamp (epoch seconds, a number) at '{path}', got {_json_type(value)} {_brief(value)}."
        )
    seconds = float(value)
    if not math.isfinite(seconds):  # 1e400 reads as infinity
        raise _serialization(f"The timestamp at '{path}' is out of range.")
    return seconds


def _json_type(value: Any) -> str:
    """The JSON type of a parsed value, as a message names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


# The model's integer is 32 bits and its long 64, as on AWS's side, where a number outside them does not
# deserialize at all.
_INTEGER_BITS = {"integer": 32, "long": 64}


def _validate(value: Any, shape: Shape, path: str, problems: _Problems) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _serialization(f"Expected an object at '{path or 'request'}', got {_json_type(value)}.")
        out: dict[str, Any] = {}
        for member_name in shape.required_members:
            if value.get(member_name) is None:
                problems.add(None, _join(path, member_name), "Member must not be null")
        for member_name, member_shape in shape.members.items():
            member_value = value.get(member_name)
            if member_value is None:
                continue
            out[member_name] = _validate(member_value, member_shape, _join(path, member_name), problems)
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise _serialization(f"Expected a list at '{path}', got {_json_type(value)}.")
        _check_length(value, shape, path, problems)
        return [_validate(item, shape.member, f"{path}.{i}.member", problems) for i, item in enumerate(value, 1)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _serialization(f"Expected a map at '{path}', got {_json_type(value)}.")
        _check_length(value, shape, path, problems)
        return {
            _validate(k, shape.key, f"{path}.key", problems): _validate(v, shape.value, path, problems)
            for k, v in value.items()
        }
    if kind == "string":
        if not isinstance(value, str):
            raise _serialization(f"Expected a string at '{path}', got {_json_type(value)}.")
        _check_length(value, shape, path, problems)
        enum = shape.enum
        sensitive = bool(shape.metadata.get("sensitive"))
        if enum and value not in enum:
            problems.add(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]", sensitive)
        pattern = shape.metadata.get("pattern")
        if pattern and not _pattern(pattern).search(value):
            problems.add(value, path, f"Member must satisfy regular expression pattern: {pattern}", sensitive)
        elif shape.name == "S3Uri":
            _check_s3_uri(value, pattern, path, problems)
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _serialization(f"Expected an integer at '{path}', got {_json_type(value)} {_brief(value)}.")
        bits = _INTEGER_BITS[kind]
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise _serialization(f"The number at '{path}' is out of range for a {bits}-bit {kind}.")
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            problems.add(value, path, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            problems.add(value, path, f"Member must have value less than or equal to {high}")
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _serialization(f"Expected a number at '{path}', got {_json_type(value)} {_brief(value)}.")
        if not math.isfinite(float(value)):  # 1e400 reads as infinity
            raise _serialization(f"The number at '{path}' is out of range.")
        return float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _serialization(f"Expected a boolean at '{path}', got {_json_type(value)} {_brief(value)}.")
        return value
    if kind == "timestamp":
        return _timestamp(value, path)
    if kind == "blob":
        if not isinstance(value, str):
            raise _serialization(f"Expected base64 text (a string) at '{path}', got {_json_type(value)}.")
        try:
            data = base64.b64decode(value, validate=True)
        except binascii.Error as exc:
            raise _serialization(f"Value at '{path}' is not valid base64.") from exc
        _check_length(data, shape, path, problems)
        return data
    return value


def _check_s3_uri(value: str, pattern: str | None, path: str, problems: _Problems) -> None:
    """An S3 location must be one from its first character, with no '.' or '..' folders in its key.

    The model's pattern is searched, not matched (Smithy's rule), so `file:///etc/passwd#s3://abc` passes
    it; and a key such as `in/../../etc/` names a different place on a file system than on S3.
    """
    if pattern and not _pattern(pattern).fullmatch(value):
        problems.add(value, path, f"Member must satisfy regular expression pattern: ^{pattern}$")
        return
    key = value[len("s3://") :].partition("/")[2]
    if any(part in (".", "..") for part in key.split("/")):
        problems.add(value, path, "Member must not have '.' or '..' path segments")
    elif "\0" in key:
        problems.add(value, path, "Member must not contain NUL characters")


def _join(path: str, member: str) -> str:
    return f"{path}.{_lower_camel(member)}" if path else _lower_camel(member)


def validate_request(operation_name: str, body: Any) -> dict[str, Any]:
    """Check a request body against the operation's input shape; return the cleaned parameters.

    Timestamps come back as epoch seconds (float) and blobs as bytes.
    """
    shape = operation(operation_name).input_shape
    if shape is None:
        return {}
    problems = _Problems()
    params = _validate(body, shape, "", problems)
    if problems.messages:
        count = len(problems.messages)
        noun = "error" if count == 1 else "errors"
        raise ServiceError(
            "ValidationException", f"{count} validation {noun} detected: " + "; ".join(problems.messages)
        )
    return params
