"""Errors of the OpenAI-compatible endpoints (under ``/v1/``) in OpenAI's shape, for its clients:
``{"error": {"message", "type", "param", "code"}}``.

``api.errors`` still decides every status from the domain error's semantic base; this module
only reshapes the answer for these paths, with OpenAI's habits: a bad request is 400 (also for
a file that is not a recording, or too long), a missing or bad token 401 ``invalid_api_key``, an
unknown model 404 ``model_not_found``, and a transcription that outlasts the wait 504.
"""

from __future__ import annotations

import re

from fastapi.responses import JSONResponse

from models.errors import InvalidInput, NotFound, Unavailable

OPENAI_PREFIX = "/v1/"
# OpenAI answers 400 where minsheng's own API says 422 (unusable content) or 415 (not a recording).
_STATUS = {422: 400, 415: 400}
_CODES = {
    "NotAuthenticated": "invalid_api_key",
    "ModelNotFound": "model_not_found",
    "TooManyRequests": "rate_limit_exceeded",
    "TranscriptionTimeout": "timeout",
}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class InvalidParameter(InvalidInput):
    """A form field of an OpenAI-compatible request has a value it cannot have."""

    kind = "InvalidParameter"

    def __init__(self, message: str, param: str, /, **params: object) -> None:
        super().__init__(message, **params)
        self.param = param


class ModelNotFound(NotFound):
    """The request names a model this server does not have."""

    kind = "ModelNotFound"
    param = "model"


class TranscriptionTimeout(Unavailable):
    """The worker did not finish within the wait; the job still runs, its result is dropped."""

    kind = "TranscriptionTimeout"


def is_openai_path(path: str) -> bool:
    """Whether a request path belongs to the OpenAI-compatible endpoints."""
    return path.startswith(OPENAI_PREFIX)


def openai_error(status: int, kind: str, message: str, param: str | None = None) -> JSONResponse:
    """The error response an OpenAI client expects for minsheng's ``status`` and error ``kind``."""
    headers: dict[str, str] = {}
    if kind == TranscriptionTimeout.kind:
        # The job is still running: sending the file again now would only queue it twice.
        status, headers["x-should-retry"] = 504, "false"
    status = _STATUS.get(status, status)
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error" if status < 500 else "server_error",
            "param": param,
            "code": _CODES.get(kind) or _CAMEL.sub("_", kind).lower(),
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)
