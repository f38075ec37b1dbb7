"""A job whose state was saved by an older zenbatch (every file copied into the ``batch_job``
version, free-text end reasons, no results parts) still loads and collects, with every promise kept."""

from __future__ import annotations

import json
from pathlib import Path


def _as_older_layout(version, client) -> int:
    """Rewrite a saved ``batch_job`` version as the older layout; returns the result files placed in it."""
    from zenbatch.zenml_ext.blob_store import artifact_blobs

    uri = Path(version.uri)
    blobs = artifact_blobs()
    state = json.loads((uri / "job.json").read_text())
    (uri / "inputs").mkdir()
    (uri / "results").mkdir()
    placed = 0
    for shard in state["shards"]:
        name = f"shard-{shard['index']:04d}.jsonl"
        blobs.get(shard["sha256"], uri / "inputs" / name)
        Path(blobs.path(shard["sha256"])).unlink()  # only the older copy is left to load from
        shard["path"] = f"inputs/{name}"
        batch = client.batches.retrieve(shard["batch_id"])
        if batch.status == "completed" and placed == 0:  # one shard downloaded by an older loader pass
            (uri / "results" / f"{batch.id}.output.jsonl").write_bytes(client.files.content(batch.output_file_id).content)
            shard.update(status="completed", collected=True, output_file_id=batch.output_file_id, terminal_reason="completed")
            placed += 1
        for field in ("homes", "ended", "output_sha256", "error_sha256", "downloads", "first_row", "first_custom_id",
                      "last_custom_id", "output_tokens", "embedding_inputs"):  # fmt: skip
            shard.pop(field, None)
    for field in ("parts", "rows", "riders_sha256", "keys_sha256", "metadata"):
        state.pop(field)
    state["api_calls"]["download"] = 1
    (uri / "job.json").write_text(json.dumps(state))
    return placed


def test_a_state_saved_in_the_older_layout_loads_and_collects(scenario):
    from zenbatch.zenml_ext.blob_store import artifact_blobs
    from zenbatch.zenml_ext.registry import JOB_ARTIFACT, newest_of_job

    s = scenario("older-state", rows=300, shard_rows=100)
    s.submit()
    s.wait_server(lambda batches: len(batches) == 3 and all(b.status == "completed" for b in batches), "every batch completed")
    older = newest_of_job(JOB_ARTIFACT, s.job_id)
    assert _as_older_layout(older, s.client) == 1
    s.faults_survived.append("state saved by an older zenbatch")

    s.collect()

    line = s.check()
    job = s.job_state()
    assert line["succeeded"] == 300 and job.api_calls["download"] == 1 + 2  # the placed file was not downloaded again
    newest = newest_of_job(JOB_ARTIFACT, s.job_id)
    assert sorted(p.name for p in Path(newest.uri).iterdir()) == ["job.html", "job.json"]  # names files, holds none
    assert all(artifact_blobs().has(shard.sha256) for shard in job.shards)  # the older copies are stored once again
