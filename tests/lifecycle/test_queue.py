"""A model's queue of enqueued prompt tokens, shared by every job on the provider."""

from __future__ import annotations

from zenbatch.lifecycle import advance


def queued_at_server(kit) -> tuple[int, list[str]]:
    """Tokens of the server's unfinished batches (from their metadata), and the codes of batches refused for the queue."""
    batches = list(kit.provider().iter_batches(1000))
    queued = sum(int(b.metadata["zenbatch_tokens"]) for b in batches if b.status.is_in_progress())
    refused = [c for b in batches for c in b.error_codes() if c == "token_limit_exceeded"]
    return queued, refused


def test_two_jobs_on_one_model_never_pass_its_queue_and_both_finish(server_factory):
    probe = server_factory()
    per_shard = max(s.prompt_tokens for s in probe.job(4, name="probe", limits={"max_requests": 2})[0].shards)
    limit = per_shard * 3
    # The server refuses past the limit, as OpenAI does; a batch stays validating (queued) for a second,
    # so the pass that submitted it still sees it queued, however fast its lines run.
    kit = server_factory(validate_delay=1.0, max_enqueued_tokens=limit)
    queue = {"queue_limits": {"gpt-4o-mini": limit}}
    first, first_rows = kit.job(10, name="first", limits={"max_requests": 2}, provider=queue)
    second, second_rows = kit.job(12, name="second", limits={"max_requests": 2}, provider=queue)
    assert first.job_id != second.job_id and first.max_enqueued_tokens == limit
    provider = kit.provider(**queue)
    deferred: list[str] = []
    peak = 0
    for _ in range(600):
        done = []
        for job, rows, name in ((first, first_rows, "first"), (second, second_rows, "second")):
            collection = advance(job, provider, save=kit.save_to(name), inputs=rows)
            deferred += [s.deferred for s in job.shards if s.deferred]
            queued, refused = queued_at_server(kit)
            assert queued <= limit and not refused, (queued, refused)
            peak = max(peak, queued)
            done.append(collection.final)
        if all(done):
            break

    assert all(done)
    for job, rows in ((first, first_rows), (second, second_rows)):
        results = advance(job, provider, inputs=rows).results.to_pandas()
        assert (results["status"] == "succeeded").all() and len(results) == len(rows)
    assert peak > per_shard  # both jobs ran at once while there was room
    assert any("enqueued tokens gpt-4o-mini may hold are taken" in d for d in deferred)  # and waited when there was none
    assert sum(kit.server.execution_counts().values()) == 22  # every row of both jobs once


def test_a_shard_is_planned_under_its_models_queue_limit(kit):
    probe, _ = kit.job(1, name="one")
    per_row = probe.shards[0].prompt_tokens
    job, _ = kit.job(9, name="split", provider={"queue_limits": {"gpt-4o-mini": int(per_row * 2.5)}})
    assert [s.requests for s in job.shards] == [2, 2, 2, 2, 1]
    assert all(s.prompt_tokens <= per_row * 2.5 for s in job.shards)
