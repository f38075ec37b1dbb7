"""Errors the server answers with, in OpenAI's error body shape.

::

    ZenbatchError
    └── ServerError            the local batch server cannot start or run (names the setting)
        └── ApiError           one HTTP request is refused: status, type, code, param

An ApiError becomes ``{"error": {"message", "type", "param", "code"}}`` with its status.
"""

from __future__ import annotations

from typing import Any

from zenbatch.errors import ZenbatchError


class ServerError(ZenbatchError):
    """The local batch server cannot start or run: a missing model, a bad setting."""


class ApiError(ServerError):
    """A request the server refuses, rendered as an OpenAI error body."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.code, self.param)


def error_body(message: str, type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """The ``{"error": {...}}`` object OpenAI answers failures with."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def not_found(kind: str, object_id: str) -> ApiError:
    return ApiError(404, f"No {kind} found with id '{object_id}'.", code=None)


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param=param, code=code)
