"""One request line in, one output or error line out, in the documented shapes.

Output line: ``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error": null}``;
an HTTP error from the engine has the same shape with the error status and body; a line that
never ran has ``"response": null`` and ``"error": {"code", "message"}``.
"""

from __future__ import annotations

from typing import Any

import orjson

from zenbatch.results import usage_of
from zenbatch.server.apierror import error_body
from zenbatch.server.engines.base import Engine, EngineReply
from zenbatch.server.faults import FaultInjector
from zenbatch.server.ids import new_line_id, new_request_id
from zenbatch.server.store import LineResult

NOT_RUN_MESSAGES = {
    "batch_expired": "This request could not be executed before the completion window expired.",
    "batch_cancelled": "This request was not executed because the batch was cancelled.",
}


def response_record(custom_id: str, reply: EngineReply) -> bytes:
    return orjson.dumps({
        "id": new_line_id(),
        "custom_id": custom_id,
        "response": {"status_code": reply.status_code, "request_id": new_request_id(), "body": reply.body},
        "error": None,
    })  # fmt: skip


def not_run_record(custom_id: str, code: str) -> bytes:
    return orjson.dumps({
        "id": new_line_id(),
        "custom_id": custom_id,
        "response": None,
        "error": {"code": code, "message": NOT_RUN_MESSAGES[code]},
    })  # fmt: skip


def custom_id_of(raw: bytes) -> str:
    """The custom_id of a validated line."""
    return str(orjson.loads(raw)["custom_id"])


def answer(engine: Engine, faults: FaultInjector, endpoint: str, body: dict[str, Any], *, draw: tuple[str, str]) -> EngineReply:
    """One request through the faults (its delay, and a failure drawn by ``draw``) and the engine.

    An engine bug on one request must not take the batch (or the server) down: it becomes that
    request's 500.

    Raises:
        EngineStopped: the server is stopping.
    """
    faults.delay()
    if (status := faults.failure_status(*draw)) is not None:
        return faults.failure(status)
    try:
        return engine.execute(endpoint, body)
    except (RuntimeError, TypeError, KeyError, IndexError, OSError) as exc:
        message = f"The {engine.name} engine failed on this request: {type(exc).__name__}: {exc}"
        return EngineReply(500, error_body(message, "server_error", "server_error"))


def run_line(engine: Engine, faults: FaultInjector, batch_id: str, endpoint: str, number: int, raw: bytes) -> LineResult:
    """Run one validated request line through faults and the engine.

    Raises:
        EngineStopped: the server is stopping; the line is not done and runs after a restart.
    """
    record = orjson.loads(raw)
    custom_id = str(record["custom_id"])
    reply = answer(engine, faults, endpoint, record["body"], draw=(batch_id, custom_id))
    tokens = usage_of(reply.body) if reply.ok else (0, 0, 0, 0)
    return LineResult(
        line=number, custom_id=custom_id, ok=reply.ok, record=response_record(custom_id, reply),
        input_tokens=tokens[0], output_tokens=tokens[1], cached_tokens=tokens[2], reasoning_tokens=tokens[3],
    )  # fmt: skip
