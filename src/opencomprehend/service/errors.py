"""Errors as Comprehend sends them: an HTTP status and ``{"__type": code, "Message": text}``."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error the client sees. ``code`` is the modeled (or common AWS) error code."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"__type": self.code, "Message": self.message, **self.extra}


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequestException", message)


def job_not_found(job_id: str) -> ServiceError:
    return ServiceError("JobNotFoundException", f"Could not find job with id {job_id}.")


def resource_not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"RESOURCE_NOT_FOUND: Could not find specified resource. ({arn})")
