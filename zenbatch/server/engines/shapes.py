"""Response bodies in the shapes of OpenAI's realtime endpoints, and reading request bodies.

Shared by the engines that compute answers locally (echo, llama-cpp) so both answer alike.
"""

from __future__ import annotations

import secrets
import time
from typing import Any


def message_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list joined by newlines."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text")
        )
    return str(content)


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def response_input_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The Responses API's ``instructions`` + ``input`` as chat messages."""
    messages: list[dict[str, Any]] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": str(body["instructions"])})
    value = body.get("input")
    if isinstance(value, str):
        messages.append({"role": "user", "content": value})
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item.get("role"):
                messages.append({"role": item["role"], "content": message_text(item.get("content"))})
    return messages


def prompts_of(value: Any) -> list[str]:
    """A completions ``prompt`` or embeddings ``input`` as a list of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return []


def max_output_tokens(body: dict[str, Any], default: int | None) -> int | None:
    for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and value > 0:
            return value
    return default


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def chat_completion(
    model: str, content: str, prompt_tokens: int, completion_tokens: int, finish_reason: str = "stop", fingerprint: str = "zenbatch"
) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": finish_reason,
        }],
        "usage": _usage(prompt_tokens, completion_tokens),
        "system_fingerprint": fingerprint,
    }  # fmt: skip


def text_completion(model: str, choices: list[tuple[str, str]], prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """``choices`` is ``[(text, finish_reason), ...]``."""
    return {
        "id": f"cmpl-{secrets.token_hex(12)}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"text": text, "index": i, "logprobs": None, "finish_reason": reason} for i, (text, reason) in enumerate(choices)],
        "usage": _usage(prompt_tokens, completion_tokens),
    }


def embedding_list(model: str, vectors: list[Any], prompt_tokens: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def response_object(model: str, text: str, input_tokens: int, output_tokens: int, incomplete: bool = False) -> dict[str, Any]:
    return {
        "id": f"resp_{secrets.token_hex(12)}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if incomplete else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "error": None,
        "model": model,
        "output": [{
            "type": "message",
            "id": f"msg_{secrets.token_hex(12)}",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        },
    }  # fmt: skip


def moderation(model: str, count: int) -> dict[str, Any]:
    return {
        "id": f"modr-{secrets.token_hex(12)}",
        "model": model,
        "results": [{"flagged": False, "categories": {}, "category_scores": {}} for _ in range(count)],
    }
