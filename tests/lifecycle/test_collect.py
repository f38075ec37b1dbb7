import time

from zenbatch.jobs import ShardStatus
from zenbatch.lifecycle import Outcome, cancel, collect, poll, run_until_done, submit


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_injected_500s_end_with_every_row_succeeded_and_no_row_run_twice_after_success(server_factory):
    kit = server_factory(fail_rate=0.2, fail_status=500, seed=11)
    job, frame = kit.job(60, max_attempts=8)
    provider = kit.provider()
    outcome, collection = run_until_done(job, provider, save=kit.save_to("faults"), inputs=frame, poll_interval=0.05, timeout=120)
    results = collection.results.to_pandas()
    assert outcome == Outcome.COMPLETED
    assert len(results) == 60 and (results["status"] == "succeeded").all()
    assert results["custom_id"].tolist() == frame["id"].tolist()
    assert results["content"].tolist() == [f"Say: text number {i}" for i in range(60)]
    assert (results["attempts"] > 1).any()  # some rows needed a retry
    counts = kit.server.execution_counts()
    assert {cid: counts[cid] for cid in results["custom_id"]} == dict(zip(results["custom_id"], results["attempts"]))


def test_expiry_half_done_is_finished_by_one_resubmit_without_rerunning_the_done_half(server_factory):
    # Half the lines run, then the batch waits until its 1.5 s window passes; the 8 left run through the next.
    kit = server_factory(hold_at_line=8, expire_after=1.5)
    job, frame = kit.job(16, max_attempts=2)
    provider = kit.provider()
    save = kit.save_to("expiry")
    submit(job, provider, save=save)
    wait_for(lambda: poll(job, provider, save=save) and job.shards[0].status.is_terminal())
    assert job.shards[0].status == ShardStatus.EXPIRED
    first = collect(job, provider, save=save, inputs=frame).results.to_pandas()
    done_first = set(first.loc[first["status"] == "succeeded", "custom_id"])
    assert len(done_first) == 8
    expired = first[first["status"] != "succeeded"]
    assert set(expired["error_code"]) == {"batch_expired"} and expired["retryable"].all()
    outcome, final = run_until_done(job, provider, save=save, inputs=frame, poll_interval=0.05, timeout=60)
    results = final.results.to_pandas()
    assert outcome == Outcome.COMPLETED
    assert (results["status"] == "succeeded").all()
    assert len([s for s in job.shards if s.attempt == 2]) == 1
    counts = kit.server.execution_counts()
    assert all(counts[cid] == 1 for cid in results["custom_id"])


def test_a_cancelled_job_keeps_its_finished_rows_and_submits_nothing_more(server_factory):
    kit = server_factory(hold_at_line=3)  # each batch runs 3 lines, then waits for the cancel
    job, frame = kit.job(30, limits={"max_requests": 15})
    provider = kit.provider()
    save = kit.save_to("cancel")
    submit(job, provider, save=save)
    wait_for(lambda: poll(job, provider, save=save).completed_requests == 6)
    asked = cancel(job, provider, save=save)
    assert asked
    wait_for(lambda: poll(job, provider, save=save) is not None and all(s.status.is_terminal() for s in job.shards))
    collection = collect(job, provider, save=save, inputs=frame)
    results = collection.results.to_pandas()
    assert collection.final and job.cancelled
    assert len(results) == 30
    succeeded = results[results["status"] == "succeeded"]
    assert len(succeeded) == 6  # 3 of each batch
    assert not results.loc[results["status"] != "succeeded", "retryable"].any()
    assert submit(job, provider, save=save).submitted == []


def test_an_output_file_short_of_lines_the_batch_counts_is_downloaded_again_and_no_row_is_resubmitted(server_factory):
    kit = server_factory(short_outputs=1)  # the first download of each output file lacks its last fifth of lines
    job, frame = kit.job(20)
    provider = kit.provider()

    outcome, collection = run_until_done(job, provider, save=kit.save_to("short"), inputs=frame, poll_interval=0.05, timeout=60)

    results = collection.results.to_pandas()
    assert outcome == Outcome.COMPLETED and (results["status"] == "succeeded").all()
    assert results["custom_id"].tolist() == frame["id"].tolist()
    assert [s.attempt for s in job.shards] == [1] and job.shards[0].downloads == 2  # fetched again, not retried
    assert set(kit.server.execution_counts().values()) == {1}


def test_rows_the_batch_counts_as_done_but_never_returns_are_failed_as_lost_not_paid_for_twice(server_factory):
    kit = server_factory(short_outputs=10)  # every download comes back short
    job, frame = kit.job(20)
    provider = kit.provider()

    outcome, collection = run_until_done(job, provider, save=kit.save_to("lost"), inputs=frame, poll_interval=0.05, timeout=60)

    results = collection.results.to_pandas()
    lost = results[results["status"] != "succeeded"]
    assert outcome == Outcome.COMPLETED and len(lost) == 4  # 20 // 5 lines cut from the end of the file
    assert set(lost["error_code"]) == {"result_lost"} and not lost["retryable"].any()
    assert lost["error_message"].str.contains(job.shards[0].batch_id or "-").all()
    assert [s.attempt for s in job.shards] == [1] and job.shards[0].downloads == 3
    assert set(kit.server.execution_counts().values()) == {1}
