"""A batch's life as a user watches it through the openai SDK: states, counts, usage, files."""

from __future__ import annotations

import openai
import pytest
from openai.types import Batch
from openai.types.chat import ChatCompletion

from tests.server.conftest import openai_client
from tests.server.kit import chat_file, chat_line, jsonl, read_jsonl, submit, wait_for, wait_for_counts


def test_batch_goes_validating_in_progress_completed_with_counts_and_usage(make_server):
    server = make_server(line_delay_ms=20, validate_delay=0.3, workers=2)
    client = openai_client(server)

    batch = submit(client, chat_file(20), metadata={"job": "reviews", "shard": "0"})

    assert isinstance(batch, Batch) and batch.id.startswith("batch_") and batch.status == "validating"
    assert batch.request_counts.total == 0 and batch.metadata == {"job": "reviews", "shard": "0"}
    assert batch.expires_at == batch.created_at + 86400 and batch.completion_window == "24h"
    running = wait_for(client, batch.id, ["in_progress"])
    assert running.request_counts.total == 20 and running.in_progress_at >= running.created_at
    assert running.model == "gpt-4o-mini"
    partly = wait_for_counts(client, batch.id, lambda c: 0 < c.completed < 20)
    assert partly.status == "in_progress"
    done = wait_for(client, batch.id)

    assert done.status == "completed"
    assert done.request_counts.model_dump() == {"total": 20, "completed": 20, "failed": 0}
    assert done.finalizing_at and done.completed_at and done.completed_at >= done.in_progress_at
    assert done.error_file_id is None and done.errors is None and done.metadata == {"job": "reviews", "shard": "0"}
    assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens
    for unset in ("failed_at", "expired_at", "cancelling_at", "cancelled_at"):
        assert getattr(done, unset) is None
    output = client.files.retrieve(done.output_file_id)
    assert output.purpose == "batch_output" and output.filename.endswith(".jsonl")


def test_output_lines_have_the_documented_shape_and_every_custom_id(client):
    lines = [chat_line(f"row-{i}", f"text {i}") for i in range(10)]
    lines.append(
        {
            **chat_line("multi"),
            "body": {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "describe"},
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                            {"type": "text", "text": "this image"},
                        ],
                    },
                ],
            },
        }
    )
    batch = wait_for(client, submit(client, jsonl(lines)).id)

    records = read_jsonl(client, batch.output_file_id)

    assert sorted(r["custom_id"] for r in records) == sorted(line["custom_id"] for line in lines)
    by_id = {r["custom_id"]: r for r in records}
    for record in records:
        assert set(record) == {"id", "custom_id", "response", "error"}
        assert record["id"].startswith("batch_req_") and record["error"] is None
        assert record["response"]["status_code"] == 200 and record["response"]["request_id"].startswith("req_")
        ChatCompletion.model_validate(record["response"]["body"])
    assert by_id["row-3"]["response"]["body"]["choices"][0]["message"]["content"] == "text 3"
    assert by_id["multi"]["response"]["body"]["choices"][0]["message"]["content"] == "describe\nthis image"
    usage_sum = sum(r["response"]["body"]["usage"]["prompt_tokens"] for r in records)
    assert batch.usage.input_tokens == usage_sum


def test_list_batches_newest_first_with_pagination(client):
    ids = [submit(client, chat_file(1, prefix=f"b{i}")).id for i in range(3)]

    page = client.batches.list(limit=2)

    assert [b.id for b in page.data] == ids[::-1][:2] and page.has_more
    rest = client.batches.list(limit=2, after=page.data[-1].id)
    assert [b.id for b in rest.data] == [ids[0]] and not rest.has_more
    assert [b.id for b in client.batches.list(limit=1)] == ids[::-1]


def test_unknown_batch_is_404(client):
    for call in (client.batches.retrieve, client.batches.cancel):
        with pytest.raises(openai.NotFoundError) as caught:
            call("batch_0123456789abcdef")
        assert caught.value.body["type"] == "invalid_request_error"


def test_create_refuses_bad_requests(client):
    file = client.files.create(file=("a.jsonl", chat_file(1)), purpose="batch")
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-missing000000000", endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.BadRequestError) as caught:
        client.batches.create(input_file_id=file.id, endpoint="/v1/audio/speech", completion_window="24h")
    assert caught.value.body["param"] == "endpoint"
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="48h")
    with pytest.raises(openai.BadRequestError) as caught:
        client.batches.create(
            input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h", metadata={f"k{i}": "v" for i in range(17)}
        )
    assert "16" in caught.value.message
    assert client.batches.list().data == []


def test_input_file_of_a_running_batch_cannot_be_deleted(make_server):
    server = make_server(line_delay_ms=50)
    client = openai_client(server)
    batch = submit(client, chat_file(20))

    with pytest.raises(openai.ConflictError):
        client.files.delete(batch.input_file_id)
    client.batches.cancel(batch.id)
    wait_for(client, batch.id)
    assert client.files.delete(batch.input_file_id).deleted
