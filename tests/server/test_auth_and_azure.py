"""API keys, and the Azure OpenAI clients (legacy api-version paths and the v1 API)."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai import AzureOpenAI, OpenAI

from tests.server.conftest import openai_client
from tests.server.kit import chat_file, chat_line, jsonl, read_jsonl, submit, wait_for

KEY = "sk-local-test-key"


@pytest.fixture
def keyed_server(make_server):
    return make_server(api_key=KEY)


def test_right_key_is_accepted_as_bearer_or_api_key_header(keyed_server):
    assert openai_client(keyed_server, KEY).files.list().data == []
    response = httpx.get(f"{keyed_server.base_url}/batches", headers={"api-key": KEY})
    assert response.status_code == 200 and response.json()["object"] == "list"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"api-key": "wrong"}, {"Authorization": KEY}])
def test_missing_or_wrong_key_is_401_with_an_openai_error_body(keyed_server, headers):
    response = httpx.get(f"{keyed_server.base_url}/files", headers=headers)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert KEY not in response.text and "wrong" not in response.text


def test_wrong_key_through_the_sdk_raises_authentication_error(keyed_server):
    with pytest.raises(openai.AuthenticationError):
        openai_client(keyed_server, "sk-wrong").batches.list()
    with pytest.raises(openai.AuthenticationError):
        openai_client(keyed_server, "sk-wrong").files.create(file=("a.jsonl", chat_file(1)), purpose="batch")


def test_azure_client_with_api_version_runs_a_batch_end_to_end(keyed_server):
    client = AzureOpenAI(azure_endpoint=keyed_server.azure_endpoint, api_version="2024-10-21", api_key=KEY, max_retries=0)
    lines = jsonl(chat_line(f"az-{i}", f"hi {i}", model="my-gpt4o-batch-deployment", url="/chat/completions") for i in range(4))

    batch = submit(client, lines, endpoint="/chat/completions", metadata={"from": "azure"})
    done = wait_for(client, batch.id)

    assert done.status == "completed" and done.model == "my-gpt4o-batch-deployment" and done.metadata == {"from": "azure"}
    assert sorted(r["custom_id"] for r in read_jsonl(client, done.output_file_id)) == [f"az-{i}" for i in range(4)]
    assert [b.id for b in client.batches.list()] == [batch.id]
    assert client.files.retrieve(batch.input_file_id).purpose == "batch"


def test_azure_client_with_an_entra_token_provider_is_accepted(keyed_server):
    client = AzureOpenAI(azure_endpoint=keyed_server.azure_endpoint, api_version="2024-10-21", azure_ad_token_provider=lambda: KEY, max_retries=0)
    assert client.batches.list().data == []


def test_azure_v1_api_through_the_openai_client(keyed_server):
    client = OpenAI(base_url=f"{keyed_server.azure_endpoint}/openai/v1/", api_key=lambda: KEY, max_retries=0)

    done = wait_for(client, submit(client, chat_file(3)).id)

    assert done.status == "completed" and done.request_counts.completed == 3


def test_azure_legacy_paths_need_an_api_version(keyed_server):
    response = httpx.get(f"{keyed_server.azure_endpoint}/openai/batches", headers={"api-key": KEY})
    assert response.status_code == 400 and "api-version" in response.json()["error"]["message"]


def test_unknown_route_is_404_with_an_openai_error_body(server):
    response = httpx.get(f"{server.azure_endpoint}/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["error"]["type"] == "invalid_request_error"
