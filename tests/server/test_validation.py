"""Invalid input files end the batch ``failed``, naming each problem's code and line."""

from __future__ import annotations

import pytest

from tests.server.kit import chat_file, chat_line, jsonl, submit, wait_for

GOOD = chat_line("a")


def _case(*lines):
    return jsonl(lines)


CASES = {
    "invalid_json_line": (_case(GOOD, b'{"custom_id": "b", "method": '), [("invalid_json_line", 2)]),
    "url_mismatch": (_case(GOOD, chat_line("b", url="/v1/completions")), [("url_mismatch", 2)]),
    "model_mismatch": (_case(GOOD, chat_line("b"), chat_line("c", model="gpt-4o")), [("model_mismatch", 3)]),
    "duplicate_custom_id": (_case(GOOD, chat_line("b"), chat_line("a")), [("duplicate_custom_id", 3)]),
    "empty_file": (b"\n\n", [("empty_file", None)]),
    "too_many_tasks": (chat_file(6), [("too_many_tasks", 6)]),  # the shared server allows 5
    "stream_true": (_case(GOOD, chat_line("b", stream=True)), [("invalid_request", 2)]),
    "missing_custom_id": (_case(GOOD, {k: v for k, v in chat_line("b").items() if k != "custom_id"}), [("invalid_request", 2)]),
    "missing_body": (_case({k: v for k, v in chat_line("b").items() if k != "body"}), [("invalid_request", 1)]),
    "missing_model": (_case({**GOOD, "body": {"messages": []}}), [("invalid_request", 1)]),
    "wrong_method": (_case({**GOOD, "method": "GET"}), [("invalid_request", 1)]),
    "several_problems": (
        _case(GOOD, b"not json", chat_line("a"), chat_line("d", url="/v1/embeddings")),
        [("invalid_json_line", 2), ("duplicate_custom_id", 3), ("url_mismatch", 4)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_invalid_file_fails_validation_with_codes_and_lines(shared_client, name):
    content, expected = CASES[name]

    batch = wait_for(shared_client, submit(shared_client, content).id)

    assert batch.status == "failed" and batch.failed_at and batch.in_progress_at is None
    assert [(e.code, e.line) for e in batch.errors.data] == expected
    assert all(e.message for e in batch.errors.data)
    assert batch.output_file_id is None and batch.error_file_id is None
    assert batch.request_counts.completed == 0


def test_blank_lines_are_skipped_but_still_counted_in_line_numbers(shared_client):
    content = jsonl([GOOD]) + b"\n" + jsonl([b"{broken"])
    batch = wait_for(shared_client, submit(shared_client, content).id)
    assert [(e.code, e.line) for e in batch.errors.data] == [("invalid_json_line", 3)]


def test_azure_style_endpoint_without_v1_accepts_either_line_url(shared_client):
    content = jsonl([chat_line("a", url="/chat/completions"), chat_line("b", url="/v1/chat/completions")])
    batch = wait_for(shared_client, submit(shared_client, content, endpoint="/chat/completions").id)
    assert batch.status == "completed" and batch.endpoint == "/chat/completions"


def test_a_models_enqueued_tokens_are_capped_across_batches_as_at_openai(make_server):
    from tests.server.conftest import openai_client
    from zenbatch.tokens import TokenCounter

    per_batch = 4 * TokenCounter("gpt-4o-mini").count_body("/v1/chat/completions", chat_line("x")["body"])
    client = openai_client(make_server(max_enqueued_tokens=per_batch + per_batch // 2, line_delay_ms=150, workers=1))
    first = wait_for(client, submit(client, chat_file(4, "a")).id, statuses={"in_progress"})
    refused = wait_for(client, submit(client, chat_file(4, "b")).id)
    other_model = wait_for(client, submit(client, chat_file(4, "c", model="gpt-4o")).id, statuses={"in_progress", "completed"})

    assert refused.status == "failed" and [e.code for e in refused.errors.data] == ["token_limit_exceeded"]
    assert "Enqueued token limit reached for gpt-4o-mini" in refused.errors.data[0].message
    assert other_model.status != "failed"  # each model has its own queue
    assert wait_for(client, first.id).status == "completed"
    assert wait_for(client, submit(client, chat_file(4, "d")).id).status == "completed"  # room again once it finished
