"""What each engine answers, seen in the batch output: echo's endpoints, forward's retries."""

from __future__ import annotations

import base64
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from openai.types import Completion, CreateEmbeddingResponse
from openai.types.responses import Response

from tests.server.conftest import openai_client
from tests.server.kit import jsonl, read_jsonl, submit, wait_for


def _lines(url, bodies):
    return jsonl({"custom_id": f"c{i}", "method": "POST", "url": url, "body": {"model": "m", **b}} for i, b in enumerate(bodies))


def _by_id(client, batch):
    return {r["custom_id"]: r for r in read_jsonl(client, batch.output_file_id) + read_jsonl(client, batch.error_file_id)}


def test_echo_embeddings_are_deterministic_unit_vectors(shared_client):
    content = _lines(
        "/v1/embeddings", [{"input": "same"}, {"input": ["same", "other"], "dimensions": 8}, {"input": "same", "encoding_format": "base64"}]
    )
    batch = wait_for(shared_client, submit(shared_client, content, endpoint="/v1/embeddings").id)

    out = {k: r["response"]["body"] for k, r in _by_id(shared_client, batch).items()}
    for key in ("c0", "c1"):  # the SDK's type holds decoded floats; base64 is checked below
        CreateEmbeddingResponse.model_validate(out[key])
    single = out["c0"]["data"][0]["embedding"]
    pair = [d["embedding"] for d in out["c1"]["data"]]
    assert abs(sum(v * v for v in single) - 1) < 1e-4 and len(pair[0]) == 8 and pair[0] != pair[1]
    decoded = struct.unpack(f"<{len(single)}f", base64.b64decode(out["c2"]["data"][0]["embedding"]))
    assert decoded == pytest.approx(single, abs=1e-6)
    assert out["c0"]["usage"]["prompt_tokens"] > 0


def test_echo_completions_and_responses(shared_client):
    completions = wait_for(shared_client, submit(shared_client, _lines("/v1/completions", [{"prompt": "Once upon"}]), endpoint="/v1/completions").id)
    body = _by_id(shared_client, completions)["c0"]["response"]["body"]
    assert Completion.model_validate(body).choices[0].text == "Once upon"

    responses = wait_for(shared_client, submit(shared_client, _lines("/v1/responses", [
        {"input": "plain question"}, {"instructions": "be terse", "input": [{"role": "user", "content": "list input"}]}]),
        endpoint="/v1/responses").id)  # fmt: skip
    out = _by_id(shared_client, responses)
    assert Response.model_validate(out["c0"]["response"]["body"]).output_text == "plain question"
    assert Response.model_validate(out["c1"]["response"]["body"]).output_text == "list input"
    assert responses.usage.input_tokens > 0


def test_echo_answers_a_json_schema_with_json_that_follows_it(shared_client):
    schema = {"type": "object", "properties": {"sentiment": {"type": "string", "enum": ["positive", "negative"]},
              "reason": {"type": "string"}, "score": {"type": "integer"}}, "required": ["sentiment"]}  # fmt: skip
    chat = {"response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}}
    content = _lines("/v1/chat/completions", [
        {**chat, "messages": [{"role": "user", "content": "great blender"}]},
        {**chat, "messages": [{"role": "user", "content": '{"sentiment": "negative"}'}]},  # already JSON: echoed
        {"messages": [{"role": "user", "content": "no schema asked"}]},
    ])  # fmt: skip
    out = _by_id(shared_client, wait_for(shared_client, submit(shared_client, content).id))
    texts = [out[f"c{i}"]["response"]["body"]["choices"][0]["message"]["content"] for i in range(3)]
    shaped = orjson.loads(texts[0])
    assert shaped["sentiment"] in ("positive", "negative") and shaped["reason"].endswith("great blender")
    assert shaped["score"] == len("score:great blender")
    assert texts[1:] == ['{"sentiment": "negative"}', "no schema asked"]

    responses = _lines("/v1/responses", [{"input": "great blender", "text": {"format": {"type": "json_schema", "name": "s", "schema": schema}}}])
    answer = _by_id(shared_client, wait_for(shared_client, submit(shared_client, responses, endpoint="/v1/responses").id))
    assert Response.model_validate(answer["c0"]["response"]["body"]).output_text == texts[0]  # the same draw


class _Upstream(BaseHTTPRequestHandler):
    """A realtime OpenAI-compatible server with scripted trouble, keyed by the user's text."""

    calls: Counter = Counter()
    auth: list[str] = []

    def do_POST(self):
        body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["messages"][-1]["content"]
        type(self).calls[text] += 1
        type(self).auth.append(self.headers.get("Authorization", ""))
        if text == "flaky" and self.calls[text] == 1:
            error = {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}
            return self._send(429, {"error": error}, {"Retry-After": "0"})
        if text == "broken":
            return self._send(503, {"error": {"message": "unavailable", "type": "server_error", "param": None, "code": None}})
        if text == "bad":
            return self._send(400, {"error": {"message": "bad input", "type": "invalid_request_error", "param": "messages", "code": None}})
        return self._send(
            200,
            {
                "id": "chatcmpl-up",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": f"upstream: {text}"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
            },
        )

    def _send(self, status, payload, headers=None):
        data = orjson.dumps(payload)
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    _Upstream.calls = Counter()
    _Upstream.auth = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_forward_engine_retries_transient_errors_and_keeps_the_rest(make_server, upstream, monkeypatch):
    monkeypatch.setenv("ZENBATCH_FORWARD_API_KEY", "upstream-secret")
    server = make_server(engine="forward", forward_url=upstream, forward_retries=2, forward_backoff=0.01, workers=3)
    client = openai_client(server)
    texts = ["hello", "flaky", "broken", "bad", "world"]
    content = jsonl(
        {
            "custom_id": t,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "local-llama", "messages": [{"role": "user", "content": t}]},
        }
        for t in texts
    )

    batch = wait_for(client, submit(client, content).id)

    out = _by_id(client, batch)
    assert out["hello"]["response"]["body"]["choices"][0]["message"]["content"] == "upstream: hello"
    assert out["flaky"]["response"]["status_code"] == 200 and _Upstream.calls["flaky"] == 2
    assert out["broken"]["response"]["status_code"] == 503 and _Upstream.calls["broken"] == 3
    assert out["bad"]["response"]["status_code"] == 400 and _Upstream.calls["bad"] == 1
    assert batch.request_counts.model_dump() == {"total": 5, "completed": 3, "failed": 2}
    assert batch.usage.input_tokens == 15
    assert set(_Upstream.auth) == {"Bearer upstream-secret"}


def test_forward_engine_reports_an_unreachable_server_per_line(make_server):
    server = make_server(engine="forward", forward_url="http://127.0.0.1:9/v1", forward_retries=1, forward_backoff=0.01)
    client = openai_client(server)
    batch = wait_for(client, submit(client, _lines("/v1/chat/completions", [{"messages": [{"role": "user", "content": "x"}]}])).id)
    record = _by_id(client, batch)["c0"]
    assert batch.status == "completed" and record["response"]["status_code"] == 502
    assert "could not be reached" in record["response"]["body"]["error"]["message"]
