"""Small builders shared by the unit tests."""

from __future__ import annotations

import socket
from typing import Any

import orjson
import pandas as pd

from zenbatch.results import ResultParser, join_results
from zenbatch.templates import RequestTemplate


def chat_template(**overrides: Any) -> RequestTemplate:
    base: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "system_prompt": "Label the sentiment.",
        "user_template": "Review: {text}",
        "parameters": {"max_tokens": 10},
    }
    return RequestTemplate.model_validate({**base, **overrides})


def reviews(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": [f"review number {i}" for i in range(n)]})


def read_lines(path) -> list[dict]:
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle]


def output_line(
    custom_id: str, content: str = "ok", *, prompt: int = 10, completion: int = 2, cached: int = 0, finish_reason: str = "stop", azure: bool = False
) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }
    line: dict[str, Any] = {"custom_id": custom_id, "response": {"status_code": 200, "request_id": "req_1", "body": body}, "error": None}
    if not azure:
        line = {"id": f"batch_req_{custom_id}", **line}
    return orjson.dumps(line) + b"\n"


def http_error_line(custom_id: str, status: int, code: str, message: str = "failed") -> bytes:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    return (
        orjson.dumps(
            {"id": "batch_req_x", "custom_id": custom_id, "response": {"status_code": status, "request_id": "req_2", "body": body}, "error": None}
        )
        + b"\n"
    )


def never_ran_line(custom_id: str, code: str = "batch_expired") -> bytes:
    return (
        orjson.dumps(
            {
                "id": "batch_req_y",
                "custom_id": custom_id,
                "response": None,
                "error": {"code": code, "message": "This request could not be executed before the completion window expired."},
            }
        )
        + b"\n"
    )


def results_table(answers: list[str | bytes | None], inputs: pd.DataFrame | None = None, *, structured: bool = True) -> pd.DataFrame:
    """A results table as collecting a batch builds it, custom_ids r0, r1, ...

    Each answer is the text of a successful answer, a raw output line (bytes, e.g. from
    ``http_error_line("r1", ...)``) or None for a request that never came back.
    """
    ids = [f"r{i}" for i in range(len(answers))]
    parser = ResultParser(structured=structured)
    parser.feed([a if isinstance(a, bytes) else output_line(cid, a) for cid, a in zip(ids, answers) if a is not None])
    return join_results(inputs if inputs is not None else pd.DataFrame({"id": ids}), ids, parser.frame())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
