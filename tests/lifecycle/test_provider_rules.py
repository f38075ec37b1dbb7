"""Rules a provider sets on a job's life: how often it may be polled, how old a job may grow."""

from __future__ import annotations

import time

from zenbatch.lifecycle import advance, poll, run_until_done, submit


def test_a_provider_is_polled_no_more_often_than_its_floor(kit):
    job, frame = kit.job(4)
    provider = kit.provider(min_poll_seconds=60)  # Azure's default
    submit(job, provider, save=kit.save_to("floor"))

    first, second = poll(job, provider), poll(job, provider)

    assert first.retrieves == 1 and not first.skipped
    assert second.retrieves == 0 and second.skipped and second.open == [0]
    sleeps: list[float] = []
    ticks = iter(range(0, 10_000, 60))
    run_until_done(job, provider, inputs=frame, poll_interval=1, timeout=100, sleep=sleeps.append, clock=lambda: next(ticks))
    assert sleeps and set(sleeps) == {60}  # the loop waits the floor, not the interval asked for
    assert provider.calls["retrieve"] == 1  # and the clock of the last poll holds


def test_a_job_past_its_max_age_is_cancelled_and_what_finished_is_kept(server_factory):
    kit = server_factory(line_delay_ms=60)
    job, frame = kit.job(40, limits={"max_requests": 20})
    provider = kit.provider(max_age_hours=0.5 / 3600)  # half a second, for the test
    submit(job, provider, save=kit.save_to("old"))
    deadline = time.monotonic() + 30
    while job.age_hours() * 3600 < 0.6 and time.monotonic() < deadline:
        time.sleep(0.05)

    _, collection = run_until_done(job, provider, save=kit.save_to("old"), inputs=frame, poll_interval=0.05, timeout=60)

    results = collection.results.to_pandas()
    assert job.cancelled and collection.final and len(results) == 40
    assert 0 < (results["status"] == "succeeded").sum() < 40  # finished rows kept, the rest ended with the job
    assert not results.loc[results["status"] != "succeeded", "retryable"].any()
    assert advance(job, provider, inputs=frame).final and provider.calls["cancel"] == 2  # cancelled once per shard
