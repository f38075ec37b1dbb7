"""The provider at the SDK boundary: a mock transport under the real openai SDK."""

import httpx2
import pytest

from zenbatch.config import ProviderConfig
from zenbatch.errors import JobStateError, ProviderError, TransientProviderError
from zenbatch.jobs import BatchJob, JobShard, ShardStatus
from zenbatch.lifecycle import submit
from zenbatch.providers.base import RetryPolicy
from zenbatch.providers.factory import make_provider

SECRET = "sk-test-SENTINEL0123456789abcdef"


def batch_json(batch_id="batch_1", status="validating", **extra):
    return {
        "id": batch_id, "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "file-1",
        "completion_window": "24h", "status": status, "created_at": 1, "metadata": {},
        "request_counts": {"total": 0, "completed": 0, "failed": 0}, **extra,
    }  # fmt: skip


def provider_with(handler, sleeps=None, retry=None):
    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    config = ProviderConfig(kind="openai", base_url="https://api.example.test/v1")
    return make_provider(config, api_key=SECRET, http_client=client, retry=retry or RetryPolicy(attempts=4, base=1.0),
                         sleep=(sleeps.append if sleeps is not None else lambda s: None))  # fmt: skip


def test_transient_failures_are_retried_with_growing_jittered_backoff():
    answers = iter([httpx2.Response(500, json={"error": {"message": "boom"}}), httpx2.Response(429, json={"error": {"message": "slow"}}), None, None])
    seen = []

    def handler(request):
        seen.append(request.url.path)
        answer = next(answers)
        if answer is None:
            raise httpx2.ConnectError("connection reset")
        return answer

    sleeps: list[float] = []
    provider = provider_with(handler, sleeps, retry=RetryPolicy(attempts=4, base=1.0, seed=7))
    with pytest.raises(TransientProviderError, match="could not reach"):
        provider.retrieve("batch_1")
    assert seen == ["/v1/batches/batch_1"] * 4
    same = RetryPolicy(attempts=4, base=1.0, seed=7)
    assert sleeps == [same.delay(1), same.delay(2), same.delay(3)]  # the policy's waits, in order
    assert provider.calls["retrieve"] == 4


def test_the_backoff_doubles_up_to_its_cap_with_full_jitter():
    policy = RetryPolicy(base=0.5, cap=4.0, seed=3)
    bounds = [policy.bound(attempt) for attempt in range(1, 7)]
    assert bounds == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    for attempt, bound in enumerate(bounds, start=1):
        waits = [policy.delay(attempt) for _ in range(400)]
        assert all(0 <= w <= bound for w in waits)
        assert 0.4 * bound < sum(waits) / len(waits) < 0.6 * bound  # spread over the whole range, not 0
        assert max(waits) > 0.9 * bound


def test_a_retry_that_succeeds_returns_the_projects_own_model():
    answers = iter([httpx2.Response(503), httpx2.Response(200, json=batch_json(status="in_progress"))])
    provider = provider_with(lambda request: next(answers))
    info = provider.retrieve("batch_1")
    assert info.status is ShardStatus.IN_PROGRESS and info.id == "batch_1"


def test_errors_name_the_call_and_never_carry_the_key():
    def handler(request):
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        return httpx2.Response(401, json={"error": {"message": f"Incorrect API key provided: {SECRET}.", "code": "invalid_api_key"}})

    with pytest.raises(ProviderError) as info:
        provider_with(handler).retrieve("batch_1")
    text = str(info.value)
    assert "retrieve failed with HTTP 401" in text and "check the API key" in text
    assert SECRET not in text and "sk-test" not in text
    assert not isinstance(info.value, TransientProviderError)


def test_redaction_hides_keys_and_tokens_but_not_the_words_of_a_hint():
    from zenbatch.providers.base import redact

    text = redact(f"send it as 'Authorization: Bearer KEY'; got Bearer abcdefgh12345678 and {SECRET} and sk-proj-Zx9", [SECRET])
    assert text == "send it as 'Authorization: Bearer KEY'; got [redacted] and [redacted] and [redacted]"


def test_unknown_status_keeps_the_job_and_says_what_to_do():
    provider = provider_with(lambda request: httpx2.Response(200, json=batch_json(status="paused_by_provider")))
    unknown = "batch batch_1: the provider reported an unknown batch status .paused_by_provider.; the job state is kept"
    with pytest.raises(JobStateError, match=unknown):
        provider.retrieve("batch_1")


def test_token_limit_at_create_backs_off_5s_doubling(tmp_path):
    def handler(request):
        if request.url.path.endswith("/batches") and request.method == "GET":
            return httpx2.Response(200, json={"object": "list", "data": [], "has_more": False})
        if request.url.path.endswith("/files") and request.method == "GET":
            return httpx2.Response(200, json={"object": "list", "data": [], "has_more": False})
        if request.url.path.endswith("/files"):
            return httpx2.Response(200, json={"id": "file-1", "object": "file", "bytes": 1, "created_at": 1,
                                              "filename": "x.jsonl", "purpose": "batch", "status": "processed"})  # fmt: skip
        return httpx2.Response(400, json={"error": {"message": "Enqueued token limit reached for gpt-4o-mini. Limit: 900,000 enqueued tokens.",
                                                    "code": "token_limit_exceeded", "type": "invalid_request_error"}})  # fmt: skip

    shard_file = tmp_path / "s.jsonl"
    shard_file.write_text("{}\n")
    job = BatchJob(name="j", workdir=str(tmp_path), provider="openai", endpoint="/v1/chat/completions",
                   batch_endpoint="/v1/chat/completions", model="gpt-4o-mini", pricing_model="gpt-4o-mini",
                   shards=[JobShard(index=i, path=str(shard_file), sha256=f"{i}" * 64, requests=1) for i in range(2)])  # fmt: skip
    provider = provider_with(handler)
    clock = [1000.0]
    report = submit(job, provider, save=lambda j: None, now=lambda: clock[0])
    assert report.deferred_quota == [0] and job.shards[0].not_before == 1005.0
    assert job.shards[1].input_file_id is None  # the queue is full: the next shard waits too
    assert submit(job, provider, save=lambda j: None, now=lambda: clock[0]).deferred_backoff == [0]
    clock[0] = 1006.0
    submit(job, provider, save=lambda j: None, now=lambda: clock[0])
    assert job.shards[0].backoff_seconds == 10.0 and job.shards[0].not_before == 1016.0
