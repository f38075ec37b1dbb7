"""How batches end other than cleanly: failed lines, all lines failed, expiry, cancellation."""

from __future__ import annotations

import openai
import pytest

from tests.server.conftest import openai_client
from tests.server.kit import chat_file, read_jsonl, submit, wait_for, wait_for_counts
from zenbatch.server.faults import FaultInjector
from zenbatch.server.settings import FaultSettings


def test_injected_failures_become_error_lines_with_the_http_error_shape(make_server):
    server = make_server(fail_rate=0.3, fail_status=429, seed=7)
    client = openai_client(server)

    batch = wait_for(client, submit(client, chat_file(40)).id)

    outputs, errors = read_jsonl(client, batch.output_file_id), read_jsonl(client, batch.error_file_id)
    assert batch.status == "completed" and errors and outputs
    assert batch.request_counts.model_dump() == {"total": 40, "completed": len(outputs), "failed": len(errors)}
    assert sorted(r["custom_id"] for r in outputs + errors) == sorted(f"req-{i}" for i in range(40))
    for record in errors:
        assert record["error"] is None and record["id"].startswith("batch_req_")
        assert record["response"]["status_code"] == 429
        assert set(record["response"]["body"]["error"]) == {"message", "type", "param", "code"}
        assert record["response"]["body"]["error"]["code"] == "rate_limit_exceeded"


def test_the_draw_is_fixed_per_batch_and_fresh_for_a_resubmission(make_server):
    client = openai_client(make_server(fail_rate=0.5, seed=3))
    failed = []
    for _ in range(2):
        batch = wait_for(client, submit(client, chat_file(40)).id)
        failed.append(sorted(r["custom_id"] for r in read_jsonl(client, batch.error_file_id)))
        # The same seed, batch and line always draw the same (a restart fails the same lines).
        injector = FaultInjector(FaultSettings(fail_rate=0.5, seed=3))
        assert failed[-1] == sorted(f"req-{i}" for i in range(40) if injector.should_fail(batch.id, f"req-{i}"))
    # A resubmission is a new batch: a transient failure does not follow the row there.
    assert failed[0] != failed[1] and 0 < len(failed[0]) < 40


def test_a_batch_whose_every_line_failed_still_completes_without_output_file(make_server):
    client = openai_client(make_server(fail_rate=1.0, fail_status=500))

    batch = wait_for(client, submit(client, chat_file(5)).id)

    assert batch.status == "completed" and batch.output_file_id is None and batch.error_file_id
    assert batch.request_counts.model_dump() == {"total": 5, "completed": 0, "failed": 5}
    assert {r["response"]["status_code"] for r in read_jsonl(client, batch.error_file_id)} == {500}
    assert batch.usage.total_tokens == 0


def test_window_passing_expires_the_batch_keeping_finished_lines(make_server):
    server = make_server(hold_at_line=15, expire_after=0.6, workers=2)  # 15 lines run, then the window passes
    client = openai_client(server)

    batch = wait_for(client, submit(client, chat_file(50)).id, timeout=20)

    outputs, errors = read_jsonl(client, batch.output_file_id), read_jsonl(client, batch.error_file_id)
    assert batch.status == "expired" and batch.expired_at and batch.completed_at is None
    assert len(outputs) == 15 and len(errors) == 35
    assert batch.request_counts.model_dump() == {"total": 50, "completed": len(outputs), "failed": len(errors)}
    for record in errors:
        assert record["response"] is None
        assert record["error"]["code"] == "batch_expired"
        assert record["error"]["message"] == "This request could not be executed before the completion window expired."
    assert sorted(r["custom_id"] for r in outputs + errors) == sorted(f"req-{i}" for i in range(50))
    assert set(server.execution_counts().values()) == {1} and len(server.execution_counts()) == len(outputs)


def test_cancel_goes_cancelling_then_cancelled_keeping_finished_lines(make_server):
    server = make_server(hold_at_line=3, workers=2)  # 3 lines run, then the batch waits for its cancel
    client = openai_client(server)
    batch = submit(client, chat_file(100))
    wait_for_counts(client, batch.id, lambda c: c.completed == 3)

    cancelling = client.batches.cancel(batch.id)

    assert cancelling.status == "cancelling" and cancelling.cancelling_at
    seen: list[str] = []
    done = wait_for(client, batch.id, seen=seen)
    assert done.status == "cancelled" and done.cancelled_at and set(seen) <= {"cancelling", "cancelled"}
    outputs, errors = read_jsonl(client, done.output_file_id), read_jsonl(client, done.error_file_id)
    assert len(outputs) == 3 and len(errors) == 97
    assert {r["error"]["code"] for r in errors} == {"batch_cancelled"}
    assert len(server.execution_counts()) == len(outputs)
    assert client.batches.cancel(batch.id).status == "cancelled"  # cancelling again is harmless


def test_cancel_while_validating_runs_nothing(make_server):
    server = make_server(validate_delay=0.5)
    client = openai_client(server)
    batch = submit(client, chat_file(5))

    client.batches.cancel(batch.id)
    done = wait_for(client, batch.id)

    assert done.status == "cancelled" and done.in_progress_at is None
    assert done.output_file_id is None and done.error_file_id is None
    assert server.execution_counts() == {}


def test_a_finished_batch_cannot_be_cancelled(client):
    batch = wait_for(client, submit(client, chat_file(2)).id)
    with pytest.raises(openai.ConflictError) as caught:
        client.batches.cancel(batch.id)
    assert "completed" in caught.value.message
