"""Faults in the middle of real jobs (real pipelines, a real server, real process kills); after
each, nothing is lost, nothing is answered twice and no shard is submitted twice (tests/reliability/kit.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.pipeline


def _counts(batches) -> int:
    return sum(b.request_counts.completed + b.request_counts.failed for b in batches if b.request_counts)


def test_the_server_restarted_in_the_middle_of_a_batch(scenario):
    job = scenario("server-restart", rows=400, shard_rows=200, line_delay_ms=20)
    job.submit()
    job.wait_server(lambda batches: 40 <= _counts(batches) < 300, "a batch half way")
    job.restart()  # running lines finish and are kept; the rest run after the restart
    job.faults_survived.append("server restart mid-batch")
    job.collect()
    assert job.check()["succeeded"] == 400


def test_the_loader_killed_during_a_download_and_run_again(scenario):
    job = scenario("loader-killed", rows=3000, shard_rows=1500)
    job.submit()
    job.wait_server(lambda batches: len(batches) == 2 and all(b.status == "completed" for b in batches), "both batches done")
    job.restart(download_bytes_per_second=100_000)  # a slow provider: the download takes seconds
    loader = job.cli("collect")
    results = Path(job_home()) / "jobs" / job.job_id / "results"
    deadline = time.monotonic() + 120
    while not list(results.glob("*.part")):
        assert loader.poll() is None, f"the loader ended before it downloaded: {loader.stdout.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, "no download started"
        time.sleep(0.05)
    job.kill(loader)  # in the middle of writing a result file
    job.faults_survived.append("loader SIGKILL during a download")
    assert not job.job_state().collected  # nothing was recorded as collected
    job.restart()
    job.collect()
    assert job.check()["succeeded"] == 3000
    assert not list(results.glob("*.part"))  # the partial file was replaced by a whole one


@pytest.mark.parametrize("crash_after", ["upload", "create"])
def test_the_submit_step_killed_between_upload_create_and_recording(scenario, crash_after):
    """Killed while the provider holds its answer: the work was done, the step never heard of it."""
    job = scenario(f"submit-killed-after-{crash_after}", rows=600, shard_rows=300, hold_replies={crash_after: 8})
    submitter = job.cli_submit()
    done = (lambda _: bool(job.client.files.list(purpose="batch").data)) if crash_after == "upload" else (lambda batches: bool(batches))
    job.wait_server(done, f"the first {crash_after}", timeout=120)
    job.kill(submitter)
    job.faults_survived.append(f"submit SIGKILL after {crash_after}, before recording")
    job.restart()
    job.submit()  # the pipeline again: it finds the upload (or the batch) and goes on from there
    job.collect()
    line = job.check()
    assert line["succeeded"] == 600 and line["batches"] == 2


def test_ten_percent_500s_and_five_percent_429s(scenario):
    job = scenario("500s-and-429s", rows=2000, shard_rows=1000, fail_mix={500: 0.10, 429: 0.05}, seed=5)
    job.faults_survived.append("10% 500s + 5% 429s on every attempt")
    job.submit()
    job.collect()
    line = job.check()
    # 15% fail per attempt: about 0.3% are still failing after the third; those are final rows.
    assert line["succeeded"] >= 1980 and line["attempts (max)"] == 3
    results = job.results()
    failed = results[results["status"] == "failed"]
    assert set(failed["error_code"]) <= {"server_error", "rate_limit_exceeded"} and (failed["attempts"] == 3).all()


def test_an_expiry_in_the_middle_of_a_job(scenario):
    """The first window closes half way; the expired rows go into a new batch, with a longer window."""
    job = scenario("expiry", rows=300, shard_rows=300, hold_at_line=150, expire_after=1.5)  # half, then the window passes
    job.submit()
    job.wait_server(lambda batches: batches[0].status == "expired", "the batch expired")
    expired = job.client.batches.list().data[0].request_counts
    assert (expired.completed, expired.failed) == (150, 150)
    job.restart()  # resubmissions get the normal window
    job.faults_survived.append(f"expiry after {expired.completed} of 300 rows")
    job.collect()
    line = job.check()
    assert line["succeeded"] == 300 and line["batches"] == 2


def test_a_cancel_in_the_middle_of_a_job(scenario):
    job = scenario("cancel", rows=400, shard_rows=200, hold_at_line=30)  # each batch: 30 rows, then it waits for the cancel
    job.submit()
    job.wait_server(lambda batches: _counts(batches) == 60, "30 rows of each batch answered")
    canceller = job.cli("cancel", job.job_id)
    assert canceller.wait(timeout=120) == 0, canceller.stdout.read().decode()[-2000:]
    job.faults_survived.append("cancel mid-job")
    job.collect()
    line = job.check()
    results = job.results()
    cancelled = results[results["status"] == "failed"]
    assert line["succeeded"] == 60 and set(cancelled["error_code"]) == {"batch_cancelled"}
    assert line["batches"] == 2  # cancelled rows are final: nothing is resubmitted


def job_home() -> str:
    import os

    return os.environ["ZENBATCH_HOME"]
