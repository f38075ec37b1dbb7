"""Bad answers from a provider (truncated or malformed output files, a lost file, an unknown
status): the loader says what and where, keeps the job's state, and a later run collects it
whole once the provider answers properly again (tests/reliability/kit.py checks the promises).
"""

from __future__ import annotations

import re

import pytest

from zenbatch.errors import PipelineRunError

pytestmark = pytest.mark.pipeline

BAD_ANSWERS = {
    "truncated output file": ({"corrupt_outputs": "truncate"}, r"\.output\.jsonl, line \d+: not a batch result line.*truncated or corrupt"),
    "malformed output lines": ({"corrupt_outputs": "malformed"}, r"\.output\.jsonl, line 7: not a batch result line"),
    "404 on the output file": ({"lose_outputs": True}, r"download failed with HTTP 404.*the file is gone at this provider"),
    "unknown batch status": (
        {"report_status": "paused_by_provider"},
        r"batch batch_\w+: the provider reported an unknown batch status 'paused_by_provider'",
    ),
}


@pytest.mark.parametrize("answer", list(BAD_ANSWERS))
def test_a_bad_answer_is_named_the_job_kept_and_a_retry_collects_it(scenario, answer):
    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, newest_of_job
    from zenbatch.zenml_ext.runs import run_loader_once

    faults, says = BAD_ANSWERS[answer]
    job = scenario(answer.replace(" ", "-"), rows=150, shard_rows=150)
    job.submit()
    job.wait_server(lambda batches: batches[0].status == "completed", "the batch completed")
    saved = job.job_state()
    job.restart(**faults)

    with pytest.raises(PipelineRunError) as failure:
        run_loader_once()
    message = str(failure.value)
    assert "step advance_jobs" in message and f"job {job.job_id}" in message, message
    assert "Their saved state is unchanged" in message
    assert re.search(says, message), message

    kept = job.job_state()
    assert not kept.collected and [s.batch_id for s in kept.shards] == [s.batch_id for s in saved.shards]
    assert newest_of_job(RESULTS_ARTIFACT, job.job_id) is None

    job.restart()  # the provider answers properly again
    job.faults_survived.append(answer)
    job.collect()
    assert job.check()["succeeded"] == 150
