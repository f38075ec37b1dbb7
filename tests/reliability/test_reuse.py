"""Recurring work never pays twice for the same request: the request ledger across jobs, through the real pipelines."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import yaml

from tests.reliability.kit import MATRIX, Scenario


def _second_job(s: Scenario, name: str, frame: pd.DataFrame) -> None:
    """Point the scenario at another job (its own name and dataset) on the same server."""
    frame.to_csv(s.folder / f"{name}.csv", index=False)
    config = yaml.safe_load(s.job.read_text())
    config.update(name=name, dataset={"path": f"{name}.csv"})
    s.job = s.folder / f"{name}.yaml"
    s.job.write_text(yaml.safe_dump(config))
    s.frame = frame


def _rows(s: Scenario, numbers: range) -> pd.DataFrame:
    return pd.DataFrame({"row_id": [f"{s.name}-{i:06d}" for i in numbers], "text": [f"review {i} of {s.name}" for i in numbers]})


def test_a_grown_dataset_sends_only_its_new_rows_even_after_the_local_home_is_lost(scenario):
    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, newest_of_job

    s = scenario("reuse-grown", rows=1000, shard_rows=400)
    first = s.submit()
    s.collect()
    shutil.rmtree(os.environ["ZENBATCH_HOME"])  # the ledger lives with the artifacts, not on this disk
    _second_job(s, "reuse-grown-2", _rows(s, range(1100)))

    run_metadata = _submit(s)
    s.collect()

    results = s.results()
    counts = s.server.execution_counts()
    assert len(counts) == 1100 and set(counts.values()) == {1}  # exactly the 100 new rows were sent the second time
    assert results["custom_id"].tolist() == s.frame["row_id"].tolist() and (results["status"] == "succeeded").all()
    reused = results["reused_from"].notna()
    assert reused.sum() == 1000 and results.loc[reused, "reused_from"].str.startswith(f"{first}:batch_").all()
    assert (results.loc[reused, "cost_usd"] == 0).all() and (results.loc[~reused, "cost_usd"] > 0).all()
    assert (run_metadata["reused"], run_metadata["waiting"], run_metadata["requests"]) == (1000, 0, 100)
    assert run_metadata["reuse_saving"] > 0
    summary = newest_of_job(RESULTS_ARTIFACT, s.job_id).run_metadata
    assert abs(summary["cost_usd"] - results.loc[~reused, "cost_usd"].sum()) < 1e-9  # reused rows cost this job nothing
    s.faults_survived.append(f"1,000 rows again (reuse saved {run_metadata['reuse_saving']:.6f} USD), ZENBATCH_HOME deleted")
    _matrix_line(s, results)


def test_two_overlapping_jobs_run_each_shared_request_once(scenario):
    s = scenario("reuse-overlap", rows=600, shard_rows=300, line_delay_ms=2)
    s.submit()  # rows 0..599, still running when the second job is planned
    first = s.job_id
    _second_job(s, "reuse-overlap-2", _rows(s, range(300, 900)))
    run_metadata = _submit(s)
    assert run_metadata["waiting"] == 300 and run_metadata["requests"] == 300

    s.collect()

    results = s.results()
    counts = s.server.execution_counts()
    assert len(counts) == 900 and set(counts.values()) == {1}
    shared = results["custom_id"].isin([f"reuse-overlap-{i:06d}" for i in range(300, 600)])
    assert results.loc[shared, "reused_from"].str.startswith(f"{first}:").all() and results.loc[~shared, "reused_from"].isna().all()
    assert (results["status"] == "succeeded").all()
    s.faults_survived.append("a second job overlapping an open one")
    _matrix_line(s, results)


def test_a_retryable_failure_is_sent_again_and_a_permanent_one_is_reused_as_it_is(scenario):
    s = scenario("reuse-failed", rows=300, shard_rows=300, fail_mix={500: 0.6, 400: 0.1}, seed=3)
    s.submit()
    s.collect()
    before = s.results()
    permanent = set(before.loc[(before["status"] == "failed") & ~before["retryable"], "custom_id"])
    retryable = set(before.loc[(before["status"] == "failed") & before["retryable"], "custom_id"])
    assert permanent and retryable  # the seed gives both kinds
    tries = s.server.execution_counts()
    s.restart()  # no faults now
    _second_job(s, "reuse-failed-2", s.frame)

    _submit(s)
    s.collect()

    results = s.results().set_index("custom_id")
    again = {cid: n - tries.get(cid, 0) for cid, n in s.server.execution_counts().items() if n > tries.get(cid, 0)}
    assert set(again) == retryable and set(again.values()) == {1}  # only the retryable failures were sent again
    assert (results.loc[sorted(retryable), "status"] == "succeeded").all()
    assert (results.loc[sorted(permanent), "status"] == "failed").all() and results.loc[sorted(permanent), "reused_from"].notna().all()
    s.faults_survived.append("job 1's failures: retryable sent again, permanent reused")
    _matrix_line(s, results.reset_index())


def _submit(s: Scenario) -> dict:
    from zenbatch.zenml_ext.runs import run_submit

    run = run_submit(str(s.job), provider_config=str(s.provider))
    s.job_id = str(run.steps["submit_batch"].run_metadata["job_id"])
    return {**run.steps["plan_batch"].run_metadata}


def _matrix_line(s: Scenario, results: pd.DataFrame) -> None:
    line = s.line(results)
    assert line["shards submitted twice"] == 0 and line["requests answered twice"] == 0
    MATRIX.append(line)


def test_a_submit_schedule_over_a_growing_dataset_sends_each_row_once(scenario):
    import datetime as dt
    import threading

    from zenbatch.config import JobConfig
    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, versions_tagged
    from zenbatch.zenml_ext.schedules import run_loader, run_submit_schedule
    from zenbatch.zenml_ext.tags import ZENBATCH_TAG

    s = scenario("nightly", rows=100, shard_rows=500)
    stop = threading.Event()

    def grow() -> None:  # after each run's batch, 50 more rows arrive before the next run
        seen = 0
        while not stop.wait(0.2):
            batches = len(s.client.batches.list(limit=100).data)
            if batches > seen and batches < 3:
                seen = batches
                s.frame = _rows(s, range(len(s.frame) + 50))
                s.frame.to_csv(s.folder / "nightly.csv", index=False)
            seen = max(seen, batches)

    grower = threading.Thread(target=grow, daemon=True)
    grower.start()
    try:
        job = JobConfig.from_yaml(s.job, provider=s.provider)
        run_submit_schedule(job, name="nightly-submit", interval_seconds=8,
                            end_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20))  # fmt: skip
    finally:
        stop.set()
        grower.join()
    run_loader(name="nightly-loader", interval_seconds=1, end_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120))

    counts = s.server.execution_counts()
    assert len(counts) == 200 and set(counts.values()) == {1}  # 100, then 50 and 50 new: each row answered once
    assert len(s.client.batches.list(limit=100).data) == 3
    results = [v.load().to_pandas() for v in versions_tagged(ZENBATCH_TAG, name=RESULTS_ARTIFACT)
               if str(v.run_metadata.get("job_name")) == "nightly"]  # fmt: skip
    assert sorted(len(r) for r in results) == [100, 150, 200]
    newest = max(results, key=len)
    assert newest["custom_id"].tolist() == s.frame["row_id"].tolist() and (newest["status"] == "succeeded").all()
    assert newest["reused_from"].notna().sum() == 150  # the rows the two earlier runs sent
    from zenml.client import Client

    assert not Client().get_schedule("nightly-loader").active  # the loader paused itself once all was collected
