"""The realtime endpoints, through the real openai SDK: the same engine as batch lines, OpenAI's shapes."""

from __future__ import annotations

import openai
import pytest
from openai import AzureOpenAI

from tests.server.conftest import openai_client


def test_chat_completions_answer_with_the_batch_engine(shared_client):
    reply = shared_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}], max_tokens=5)
    assert reply.object == "chat.completion" and reply.choices[0].message.content
    assert reply.usage.prompt_tokens > 0 and reply._request_id.startswith("req_")


def test_completions_embeddings_and_responses_answer_too(shared_client):
    completion = shared_client.completions.create(model="gpt-4o-mini", prompt="say", max_tokens=3)
    assert completion.choices[0].text is not None
    embedding = shared_client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(embedding.data) == 2 and embedding.data[0].embedding
    response = shared_client.responses.create(model="gpt-4o-mini", input="hi", max_output_tokens=16)
    assert response.output_text is not None and response.usage.input_tokens > 0


def test_a_streamed_or_modelless_request_is_refused_with_an_openai_error(shared_client):
    with pytest.raises(openai.BadRequestError, match="stream"):
        shared_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
    with pytest.raises(openai.BadRequestError, match="model"):
        shared_client.post("/chat/completions", body={"messages": []}, cast_to=object)


def test_azures_deployment_route_answers_with_the_deployment_as_the_model(shared_server):
    client = AzureOpenAI(azure_endpoint=shared_server.azure_endpoint, api_key="unused", api_version="2024-10-21", max_retries=0)
    reply = client.chat.completions.create(model="my-deployment", messages=[{"role": "user", "content": "hi"}], max_tokens=3)
    assert reply.model == "my-deployment" and reply.choices


def test_injected_failures_reach_realtime_calls_and_a_retry_draws_afresh(make_server):
    client = openai_client(make_server(fail_mix={429: 0.5}, seed=7))
    outcomes = []
    for _ in range(20):
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], max_tokens=2)
            outcomes.append("ok")
        except openai.RateLimitError:
            outcomes.append("429")
    assert {"ok", "429"} == set(outcomes)
