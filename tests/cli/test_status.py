"""``zenbatch status`` on jobs saved in ZenML: shards waiting for the queue say why and until when."""

from __future__ import annotations

import orjson
import pandas as pd

from zenbatch.cli import main
from zenbatch.config import JobConfig
from zenbatch.lifecycle import prepare_job

WAITS = "1,900,000 of the 2,000,000 enqueued tokens gpt-4o-mini may hold are taken by unfinished batches"


def test_status_shows_the_shards_deferred_for_the_queue_and_why(zenml_store, tmp_path, capsys):
    from zenml import save_artifact

    from zenbatch.zenml_ext.materializers.batch_job import BatchJobMaterializer
    from zenbatch.zenml_ext.registry import JOB_ARTIFACT, job_tag, mark_newest
    from zenbatch.zenml_ext.tags import ZENBATCH_TAG

    config = JobConfig.model_validate({
        "name": "status-deferred",
        "provider": {"kind": "local", "base_url": "http://127.0.0.1:9/v1", "limits": {"max_requests": 2}},
        "template": {"model": "gpt-4o-mini", "user_template": "{text}", "parameters": {"max_tokens": 3}},
    })  # fmt: skip
    job, _ = prepare_job(config, tmp_path / "work", pd.DataFrame({"text": ["a", "b", "c", "d"]}))
    job.shards[1].deferred = WAITS
    saved = save_artifact(job, name=JOB_ARTIFACT, tags=[ZENBATCH_TAG, job_tag(job.job_id)], materializer=BatchJobMaterializer)
    mark_newest(saved.id, job.job_id, collected=False)
    try:
        assert main(["status"]) == 0
        out = capsys.readouterr().out
        assert f"status-deferred ({job.job_id}) shard 1 waits: {WAITS}" in " ".join(out.split())
        assert main(["status", "--json"]) == 0
        listed = next(j for j in orjson.loads(capsys.readouterr().out) if j["job_id"] == job.job_id)
        assert listed["deferred"] == {"1": WAITS}
    finally:
        mark_newest(saved.id, job.job_id, collected=True)  # no loader of another test picks it up
