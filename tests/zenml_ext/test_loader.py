"""A loader pass over saved jobs: a job whose provider cannot be reached waits; the others go on."""

from __future__ import annotations

import pandas as pd
import pytest

from zenbatch.config import JobConfig
from zenbatch.jobs import ShardStatus
from zenbatch.lifecycle import prepare_job

pytestmark = pytest.mark.pipeline


def test_a_job_whose_provider_is_unreachable_waits_for_the_next_pass_with_its_state_unchanged(zenml_store, tmp_path):
    from zenml import save_artifact

    from zenbatch.zenml_ext.loader import advance_open_jobs
    from zenbatch.zenml_ext.materializers.batch_job import BatchJobMaterializer
    from zenbatch.zenml_ext.registry import JOB_ARTIFACT, job_tag, latest_job_version, mark_newest
    from zenbatch.zenml_ext.tags import ZENBATCH_TAG

    config = JobConfig.model_validate({
        "name": "unreachable", "provider": {"kind": "local", "base_url": "http://127.0.0.1:9/v1"},  # nothing listens there
        "template": {"model": "gpt-4o-mini", "user_template": "{text}", "parameters": {"max_tokens": 3}},
    })  # fmt: skip
    job, _ = prepare_job(config, tmp_path / "work", pd.DataFrame({"text": ["a", "b"]}))
    saved = save_artifact(job, name=JOB_ARTIFACT, tags=[ZENBATCH_TAG, job_tag(job.job_id)], materializer=BatchJobMaterializer)
    mark_newest(saved.id, job.job_id, collected=False)
    try:
        report = advance_open_jobs([str(saved.id)])

        assert list(report.waiting) == [job.job_id] and "could not reach the server" in report.waiting[job.job_id]
        assert report.errors == {} and report.collected == [] and report.still_open == 1
        newest = latest_job_version(job.job_id)
        assert newest is not None and newest.id == saved.id  # nothing new was saved
        assert [s.status for s in newest.load().shards] == [ShardStatus.PENDING]
    finally:
        mark_newest(saved.id, job.job_id, collected=True)  # no other loader picks it up
