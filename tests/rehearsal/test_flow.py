"""The whole flow on the rehearsal stack, as a remote stack runs it (see ``tests/rehearsal/kit.py``).

The sample job's 300 reviews live in the bucket (``s3://...``), the provider's key in a ZenML
secret on the server, and the client is ``zenbatch`` from the wheel. Every step of every run
is its own process with an empty disk, so whatever a step needs of another it gets from the
artifact store or the server. ``make rehearsal`` runs the rehearsal tests alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import orjson
import pandas as pd
import pytest

from tests.conftest import REPO
from tests.rehearsal.kit import ARTIFACTS, SENTINEL, bucket_objects
from zenbatch.defaults import sample_dataset
from zenbatch.server import LocalBatchServer

pytestmark = [pytest.mark.pipeline, pytest.mark.rehearsal]
ROWS = 300
VIEW_SCRIPT = """
import json, sys
import pyarrow.dataset as ds
from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, newest_of_job
view = newest_of_job(RESULTS_ARTIFACT, sys.argv[1]).load()
data = view.dataset()
print(json.dumps({"parts": len(view.parts), "dataset_rows": data.count_rows(),
                  "failed_rows": data.count_rows(filter=ds.field("status") == "failed"),
                  "frame_rows": len(view.to_pandas()), "summary": view.summary}))
"""


@pytest.fixture(scope="module")
def batch_server(tmp_path_factory) -> Iterator[LocalBatchServer]:
    # Slow lines keep the batch in progress at the loader's first look; one line in ten fails
    # with a 500 on every attempt's draw, so the loader resubmits.
    server = LocalBatchServer(tmp_path_factory.mktemp("batch-server"), engine="echo", api_key=SENTINEL, workers=2,
                              line_delay_ms=200, fail_rate=0.1, fail_status=500, seed=7)  # fmt: skip
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_whole_flow_runs_with_every_step_in_its_own_process(rehearsal, batch_server):
    job = rehearsal.job("rehearsal-reviews", batch_server)
    clock = time.monotonic()
    seconds: dict[str, float] = {}
    submitted = orjson.loads(rehearsal.cli("submit", "--job", job, "--json"))
    assert submitted["requests"] == ROWS and len(submitted["batch_ids"]) == 1
    seconds["submit"], clock = time.monotonic() - clock, time.monotonic()
    rehearsal.cli("collect", "--schedule", "--interval", "2")
    seconds["scheduled loader"], clock = time.monotonic() - clock, time.monotonic()
    for command in ("label", "evaluate", "finetune"):
        rehearsal.cli(command)
    seconds["label, evaluate, finetune"] = time.monotonic() - clock

    # The loader saw the batch in progress, resubmitted the failed lines, then paused itself.
    scheduled = [r for r in rehearsal.runs("loader_pipeline") if r["schedule"]]
    loader = [r for r in scheduled if r["schedule"] == scheduled[-1]["schedule"]]  # this loader's schedule, not earlier tests'
    assert all(r["status"] == "completed" for r in loader), loader
    reports = [r["loader_report"] for r in loader]
    first = reports[0]["jobs"][0]
    assert reports[0]["still_open"] == 1 and not first["final"] and first["shards"].get("in_progress", 0) == 1
    assert [r["pause_report"]["paused"] for r in loader] == [False] * (len(loader) - 1) + [True]
    assert reports[-1]["collected"] == [submitted["job_id"]]

    status = next(j for j in orjson.loads(rehearsal.cli("status", "--json")) if j["job_id"] == submitted["job_id"])
    assert status["state"] == "collected" and status["shards"].get("completed", 0) >= 2  # the first batch and a retry
    out = rehearsal.project / "rows.parquet"
    rehearsal.cli("results", submitted["job_id"], "--out", str(out))
    rows = pd.read_parquet(out)
    expected = set(pd.read_csv(sample_dataset())["review_id"])
    assert len(rows) == ROWS and set(rows["custom_id"]) == expected  # every input row once
    assert (rows["status"] == "succeeded").sum() + (rows["status"] == "failed").sum() == ROWS
    view = rehearsal.python(VIEW_SCRIPT, submitted["job_id"])  # the lazy view, read from the bucket
    assert view == {"parts": 1, "dataset_rows": ROWS, "failed_rows": view["summary"]["failed"], "frame_rows": ROWS,
                    "summary": {**view["summary"], "rows": ROWS}}  # fmt: skip
    answered = batch_server.execution_counts(succeeded_only=True)
    assert set(answered) <= expected and max(answered.values()) == 1  # nothing answered twice

    # The job reached the steps as content: a parameter of theirs, not a path of this machine.
    submit_run = rehearsal.runs("submit_pipeline")[-1]
    assert "job" in submit_run["steps"]["plan_batch"]["parameters"] and "job" in submit_run["steps"]["load_dataset"]["parameters"]

    # Every artifact of every run lives in the bucket; nothing of the key is anywhere.
    uris = [uri for name in ("submit_pipeline", "loader_pipeline", "labeling_pipeline", "evaluation_pipeline", "finetune_pipeline")
            for r in rehearsal.runs(name) for step in r["steps"].values() for versions in step["outputs"].values() for uri in versions]  # fmt: skip
    assert uris and all(uri.startswith(ARTIFACTS) for uri in uris), [u for u in uris if not u.startswith(ARTIFACTS)]
    objects = bucket_objects(rehearsal.moto)
    assert any(key.startswith("artifacts/") for key in objects)
    leaks = [key for key, body in objects.items() if SENTINEL.encode() in body]
    assert not leaks, f"the provider key is in the bucket: {leaks}"
    assert SENTINEL not in rehearsal.server_log.read_text(errors="replace")
    out = REPO / "test-outputs" / "rehearsal.md"
    out.parent.mkdir(exist_ok=True)
    lines = [f"| {stage} | {value:.1f} s |" for stage, value in seconds.items()]
    out.write_text("\n".join(["| rehearsal stage (300 rows, each step its own process) | wall |", "|---|---|", *lines,
                              f"| loader runs | {len(loader)} |", f"| total | {sum(seconds.values()):.1f} s |", ""]))  # fmt: skip
