"""The provider's copies of a job's files: lifetimes asked for, deleted when done, caps, expiry."""

from __future__ import annotations

import time

import openai
import pytest

from zenbatch.errors import ProviderError, ResultsError
from zenbatch.lifecycle import Outcome, collect, poll, run_until_done, submit
from zenbatch.lifecycle.files import WARN_BEFORE

DAY = 86_400


def job_files(kit, job) -> dict[str, object]:
    """The files the server still holds that belong to the job's batches."""
    client = kit.provider().client
    ids = {i for s in job.shards for i in (s.input_file_id, s.output_file_id, s.error_file_id) if i}
    return {f.id: f for f in client.files.list().data if f.id in ids}


def test_uploads_and_result_files_get_the_providers_lifetimes_and_are_deleted_once_collected(kit):
    job, frame = kit.job(6)
    provider = kit.provider()
    submit(job, provider, save=kit.save_to("life"))
    uploaded = kit.provider().client.files.retrieve(job.shards[0].input_file_id)
    assert uploaded.expires_at == uploaded.created_at + 7 * DAY  # the local server's profile: OpenAI's lifetimes

    outcome, collection = run_until_done(job, provider, save=kit.save_to("life"), inputs=frame, poll_interval=0.05, timeout=30)

    assert outcome == Outcome.COMPLETED and (collection.results.to_pandas()["status"] == "succeeded").all()
    shard = job.shards[0]
    assert shard.results_expire_at is not None and shard.files_deleted
    assert abs(shard.results_expire_at - (shard.finished_at or 0) - 30 * DAY) < 60  # output_expires_after: 30 days
    assert job_files(kit, job) == {} and sorted(collection.deleted_files) == sorted([shard.input_file_id, shard.output_file_id])
    assert collect(job, provider).deleted_files == []  # deleted once


def test_files_are_kept_when_the_provider_config_says_so(kit):
    job, frame = kit.job(4)
    provider = kit.provider(files={"delete_inputs": False, "delete_outputs": False, "input_expires_after": None})
    run_until_done(job, provider, save=kit.save_to("kept"), inputs=frame, poll_interval=0.05, timeout=30)
    kept = job_files(kit, job)
    assert set(kept) == {job.shards[0].input_file_id, job.shards[0].output_file_id}
    uploaded = kept[job.shards[0].input_file_id]
    assert uploaded.expires_at == uploaded.created_at + 30 * DAY  # none asked for: the provider's default applies


@pytest.mark.parametrize(
    "shards, cap, files",
    [(600, 500, {}), (60, 50, {"input_expires_after": None})],
    ids=["600-shards-with-expiry", "60-shards-without-expiry"],
)
def test_a_job_with_more_shards_than_the_file_cap_runs_through(server_factory, shards, cap, files):
    """With an expiry (the default) uploads never count against the cap; without one, collected
    batches' files are deleted and the shards refused at the cap are uploaded once room frees up."""
    kit = server_factory(max_files_without_expiry=cap)
    job, frame = kit.job(shards, limits={"max_requests": 1})
    provider = kit.provider(files=files)
    assert len(job.shards) == shards

    outcome, collection = run_until_done(job, provider, save=kit.save_to("cap"), inputs=frame, poll_interval=0.1, timeout=240)

    assert outcome == Outcome.COMPLETED and (collection.results.to_pandas()["status"] == "succeeded").all()
    assert set(kit.server.execution_counts().values()) == {1} and len(kit.server.execution_counts()) == shards
    assert job_files(kit, job) == {}
    refused = provider.calls["upload"] - shards  # uploads refused at the cap, each tried again once files were freed
    assert refused > 0 if files else refused == 0
    assert provider.calls["list_files"] < 40  # uploads are looked up once per submission pass, not once per shard


def test_a_full_file_cap_that_the_job_cannot_free_says_what_to_do(server_factory):
    kit = server_factory(max_files_without_expiry=1)
    kit.provider().client.files.create(file=("someone-elses.jsonl", b'{"x": 1}\n'), purpose="batch")
    job, _ = kit.job(2)
    with pytest.raises(ProviderError) as raised:
        submit(job, kit.provider(files={"input_expires_after": None}), save=kit.save_to("full"))
    message = str(raised.value)
    assert "quotaExceeded" in message and "The maximum is 1" in message
    assert "provider.files.input_expires_after" in message and "delete old files" in message
    assert job.shards[0].input_file_id is None  # nothing half-done: the next run uploads it


def test_result_files_not_downloaded_in_time_are_flagged_then_fail_clearly_once_expired(server_factory):
    kit = server_factory(short_outputs=1, output_files_live=3)  # the first download comes back short
    job, frame = kit.job(10)
    provider = kit.provider(files={"output_expires_after": 3600})
    submit(job, provider, save=kit.save_to("expiring"))
    deadline = time.monotonic() + 30
    while not job.shards[0].status.is_terminal() and time.monotonic() < deadline:
        poll(job, provider, save=kit.save_to("expiring"))

    first = collect(job, provider, inputs=frame)  # short: kept for another download, and about to expire

    assert first.short == [0] and not first.final
    assert len(first.expiring) == 1 and "expire" in first.expiring[0] and job.shards[0].batch_id in first.expiring[0]
    assert job.shards[0].results_expire_at - time.time() < WARN_BEFORE
    output_id = job.shards[0].output_file_id
    while time.monotonic() < deadline:  # the server's clock passes the file's expiry
        try:
            kit.provider().client.files.retrieve(output_id)
        except openai.NotFoundError:
            break
    with pytest.raises(ResultsError) as raised:
        collect(job, provider, inputs=frame)
    message = str(raised.value)
    assert output_id in message and "cannot be downloaded" in message and f"zenbatch cancel {job.job_id}" in message
    assert "output_expires_after" in message
