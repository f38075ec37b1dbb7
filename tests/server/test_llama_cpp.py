"""The one real-model test: a few lines through SmolLM2-135M-Instruct in llama-cpp."""

from __future__ import annotations

import orjson
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion

from tests.server.conftest import openai_client
from tests.server.kit import jsonl, read_jsonl, submit, wait_for

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'zenbatch[local]')")

SCHEMA = {
    "type": "object",
    "properties": {"sentiment": {"type": "string", "enum": ["positive", "negative"]}, "score": {"type": "integer"}},
    "required": ["sentiment", "score"],
    "additionalProperties": False,
}


def _chat(custom_id: str, text: str, **body):
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **body},
    }


@pytest.mark.model
def test_smollm2_answers_with_schema_constrained_json_and_honours_limits(make_server):
    server = make_server(engine="llama-cpp", workers=2)
    client = openai_client(server)
    lines = [
        _chat(
            "json",
            "Review: 'I loved it, works great.' Give the sentiment and a score from 1 to 5.",
            temperature=0,
            max_tokens=40,
            response_format={"type": "json_schema", "json_schema": {"name": "label", "schema": SCHEMA, "strict": True}},
        ),
        _chat("short", "Tell me a long story about the sea.", max_tokens=5, temperature=0),
        _chat("seed-a", "Name an animal.", temperature=0.9, seed=42, max_tokens=12),
        _chat("seed-b", "Name an animal.", temperature=0.9, seed=42, max_tokens=12),
        _chat("stop", "Count from one to ten in words, separated by commas.", temperature=0, max_tokens=40, stop=[","]),
    ]

    batch = wait_for(client, submit(client, jsonl(lines)).id, timeout=240)

    assert batch.status == "completed" and batch.request_counts.completed == len(lines)
    out = {r["custom_id"]: ChatCompletion.model_validate(r["response"]["body"]) for r in read_jsonl(client, batch.output_file_id)}
    answer = orjson.loads(out["json"].choices[0].message.content)
    assert answer["sentiment"] in ("positive", "negative") and isinstance(answer["score"], int)
    assert out["short"].usage.completion_tokens <= 5 and out["short"].choices[0].finish_reason == "length"
    assert out["seed-a"].choices[0].message.content == out["seed-b"].choices[0].message.content
    assert "," not in out["stop"].choices[0].message.content
    assert batch.usage.input_tokens == sum(c.usage.prompt_tokens for c in out.values()) > 0
    assert batch.usage.output_tokens == sum(c.usage.completion_tokens for c in out.values()) > 0

    embed = wait_for(client, submit(client, jsonl([{"custom_id": "e", "method": "POST", "url": "/v1/embeddings",
                                                    "body": {"model": "any", "input": ["cat", "dog"]}}]),
                                    endpoint="/v1/embeddings").id, timeout=120)  # fmt: skip
    vectors = CreateEmbeddingResponse.model_validate(read_jsonl(client, embed.output_file_id)[0]["response"]["body"]).data
    assert len(vectors) == 2 and len(vectors[0].embedding) > 100 and vectors[0].embedding != vectors[1].embedding
