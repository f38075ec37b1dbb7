"""What every engine is: something that answers one request body for one endpoint."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from zenbatch.server.apierror import ServerError, error_body


class EngineStopped(ServerError):
    """The engine was closed while a line was running; the line stays undone and runs after a restart."""


@dataclass(frozen=True)
class EngineReply:
    """The HTTP status and JSON body a realtime call to the endpoint would have answered."""

    status_code: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


class Engine(ABC):
    """Runs request lines. Implementations must be safe to call from several threads."""

    name: str = "engine"

    @abstractmethod
    def execute(self, endpoint: str, body: dict[str, Any]) -> EngineReply:
        """Answer one request.

        Args:
            endpoint: the canonical endpoint, e.g. ``/v1/chat/completions``.
            body: the line's ``body``, as the realtime endpoint would receive it.
        """

    def interrupt(self) -> None:  # noqa: B027 - an optional hook: most engines have nothing to cut short
        """Cut waits short (retry backoff) because the server is stopping."""

    def close(self) -> None:  # noqa: B027 - an optional hook: most engines hold nothing
        """Release what the engine holds (models, connections)."""


def unsupported(endpoint: str, engine: str) -> EngineReply:
    return EngineReply(
        400,
        error_body(
            f"The {engine!r} engine does not serve {endpoint}; use another engine (--engine) or endpoint.",
            "invalid_request_error",
            "unsupported_endpoint",
        ),
    )


def bad_request(message: str, param: str | None = None, code: str | None = "invalid_request") -> EngineReply:
    return EngineReply(400, error_body(message, "invalid_request_error", code, param))
