"""The echo engine: instant, deterministic answers for tests and demos.

Chat and responses answer with the last user message's text, completions with the prompt,
embeddings with a unit vector derived from the text's hash. Usage is counted with the offline
tokenizer, so token figures look like a real provider's.

A request that asks for a JSON schema (chat ``response_format``, responses ``text.format``) gets
its text back when that is already JSON, and otherwise an object shaped by the schema and drawn
from the text's hash (an enum's value, the text for a string), as a structured model would answer.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from functools import lru_cache
from typing import Any

import orjson

from zenbatch.server.engines import shapes
from zenbatch.server.engines.base import Engine, EngineReply, bad_request, unsupported
from zenbatch.tokens import TokenCounter

DEFAULT_DIMENSIONS = 64
MAX_DIMENSIONS = 4096


@lru_cache(maxsize=32)
def _counter(model: str) -> TokenCounter:
    return TokenCounter(model)


def deterministic_vector(text: str, dimensions: int) -> list[float]:
    """A unit vector that depends only on the text: equal texts, equal vectors."""
    raw = b""
    block = 0
    while len(raw) < dimensions * 4:
        raw += hashlib.blake2b(f"{block}:{text}".encode(), digest_size=64).digest()
        block += 1
    values = [(n / 2**31) - 1.0 for n in struct.unpack(f"<{dimensions}I", raw[: dimensions * 4])]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


def _chat_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    form = body.get("response_format")
    if isinstance(form, dict) and form.get("type") == "json_schema" and isinstance(form.get("json_schema"), dict):
        schema = form["json_schema"].get("schema")
        return schema if isinstance(schema, dict) else None
    return None


def _responses_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    form = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(form, dict) and form.get("type") == "json_schema" and isinstance(schema := form.get("schema"), dict):
        return schema
    return None


def structured(text: str, schema: dict[str, Any] | None) -> str:
    """The text itself, or, when a schema is asked for and the text is not JSON, a conforming object."""
    if schema is None:
        return text
    try:
        orjson.loads(text)
        return text
    except orjson.JSONDecodeError:
        return orjson.dumps(_shaped(schema, text, 0)).decode()


def _shaped(schema: dict[str, Any], text: str, depth: int) -> Any:
    draw = int.from_bytes(hashlib.blake2b(f"{depth}:{text}".encode(), digest_size=4).digest(), "little")
    if schema.get("enum"):
        return schema["enum"][draw % len(schema["enum"])]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {name: _shaped(sub or {}, f"{name}:{text}", depth + 1) for name, sub in properties.items()}
    if kind == "array":
        return [_shaped(schema.get("items") or {}, text, depth + 1)]
    if kind in ("integer", "number"):
        return len(text)
    if kind == "boolean":
        return bool(draw % 2)
    return text


class EchoEngine(Engine):
    """Repeats the input back; costs microseconds per line."""

    name = "echo"

    def __init__(self) -> None:
        # Loading an encoding takes a second or so; pay it at start-up, not inside the first batch.
        _counter("gpt-4o-mini").count("warm up")

    def execute(self, endpoint: str, body: dict[str, Any]) -> EngineReply:
        model = str(body.get("model") or "echo")
        counter = _counter(model)
        if endpoint == "/v1/chat/completions":
            text = structured(shapes.last_user_text(body.get("messages") or []), _chat_schema(body))
            prompt = counter.count_messages(body.get("messages") or [])
            return EngineReply(200, shapes.chat_completion(model, text, prompt, counter.count(text), fingerprint="zenbatch-echo"))
        if endpoint == "/v1/completions":
            prompts = shapes.prompts_of(body.get("prompt"))
            if not prompts:
                return bad_request("'prompt' must be a string or a list of strings.", "prompt")
            tokens = [counter.count(p) for p in prompts]
            return EngineReply(200, shapes.text_completion(model, [(p, "stop") for p in prompts], sum(tokens), sum(tokens)))
        if endpoint == "/v1/embeddings":
            return self._embeddings(model, body, counter)
        if endpoint == "/v1/responses":
            messages = shapes.response_input_messages(body)
            text = structured(shapes.last_user_text(messages), _responses_schema(body))
            return EngineReply(200, shapes.response_object(model, text, counter.count_body(endpoint, body), counter.count(text)))
        if endpoint == "/v1/moderations":
            value = body.get("input")
            count = len(value) if isinstance(value, list) else 1
            return EngineReply(200, shapes.moderation(model, count))
        return unsupported(endpoint, self.name)

    def _embeddings(self, model: str, body: dict[str, Any], counter: TokenCounter) -> EngineReply:
        texts = shapes.prompts_of(body.get("input"))
        if not texts:
            return bad_request("'input' must be a non-empty string or list of strings.", "input")
        dimensions = body.get("dimensions") or DEFAULT_DIMENSIONS
        if not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
            return bad_request(f"'dimensions' must be an integer from 1 to {MAX_DIMENSIONS}.", "dimensions")
        vectors: list[Any] = [deterministic_vector(t, dimensions) for t in texts]
        if body.get("encoding_format") == "base64":
            vectors = [base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() for v in vectors]
        return EngineReply(200, shapes.embedding_list(model, vectors, sum(counter.count(t) for t in texts)))
