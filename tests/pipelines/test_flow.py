"""The whole flow through real ZenML runs: submit two jobs, let the scheduled loader collect
them and pause itself, then label, evaluate and export fine-tuning data.

One module-scoped flow feeds every test (ZenML runs cost seconds each). The local server runs
the echo engine, so each answer is the row's ``answer`` column: a JSON object the template's
schema describes, which makes labels and metrics predictable.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import orjson
import pandas as pd
import pytest
import yaml

from zenbatch.server import LocalBatchServer

pytestmark = pytest.mark.pipeline
LABELS = ["positive", "negative", "neutral"]
LOADER_INTERVAL = 3


def _dataset(rows: int, prefix: str) -> pd.DataFrame:
    truth = [LABELS[i % 3] for i in range(rows)]
    answers = list(truth)
    answers[1] = "negative" if truth[1] != "negative" else "positive"  # one wrong answer
    frame = pd.DataFrame({
        "review_id": [f"{prefix}{i:03d}" for i in range(rows)],
        "answer": [orjson.dumps({"sentiment": a}).decode() for a in answers],
        "label": truth,
    })  # fmt: skip
    frame.loc[2, "answer"] = '{"sentiment": "superb"}'  # not a known label: flagged invalid
    return frame


def _job_config(folder: Path, name: str, frame: pd.DataFrame, provider: Path, *, as_artifact: bool = False) -> Path:
    if as_artifact:  # a DataFrame artifact made by another pipeline, the submit pipeline's input
        from zenml import save_artifact

        save_artifact(frame, name=f"{name}_rows")
        dataset = {"artifact": f"{name}_rows"}
    else:
        frame.to_csv(folder / f"{name}.csv", index=False)
        dataset = {"path": f"{name}.csv"}
    config = {
        "name": name,
        "dataset": dataset,
        "template": {
            "endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "id_column": "review_id",
            "system_prompt": "Answer with the sentiment.", "user_template": "{answer}",
            "parameters": {"max_tokens": 20, "temperature": 0},
            "json_schema": {"name": "sentiment", "strict": True, "schema": {
                "type": "object", "properties": {"sentiment": {"type": "string"}},
                "required": ["sentiment"], "additionalProperties": False}},
        },
        "provider": str(provider),
        "budget_usd": 1.0,
    }  # fmt: skip
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def flow(zenml_store: Path, tmp_path_factory: pytest.TempPathFactory):
    from zenml.client import Client

    from zenbatch.zenml_ext.runs import run_downstream, run_loader, run_submit
    from zenbatch.zenml_ext.stack import ensure_local_stack

    folder = tmp_path_factory.mktemp("flow")
    # Slow lines keep the batches running while the second job is submitted and the loader starts.
    server = LocalBatchServer(folder / "server", engine="echo", workers=2, line_delay_ms=700)
    server.start()
    try:
        ensure_local_stack()
        provider = folder / "local.yaml"
        provider.write_text(yaml.safe_dump({"kind": "local", "base_url": server.base_url}))
        frames = {"alpha": _dataset(30, "a"), "beta": _dataset(12, "b")}
        configs = {name: _job_config(folder, name, frame, provider, as_artifact=name == "beta") for name, frame in frames.items()}
        for config in configs.values():
            run_submit(job_config=str(config), provider_config=str(provider))
        batches_after_submit = len(list(server_batches(server)))

        started = time.monotonic()
        schedule_name = run_loader(interval_seconds=LOADER_INTERVAL, name="test-loader")
        loader_seconds = time.monotonic() - started
        schedule = Client().get_schedule(schedule_name)
        loader_runs = Client().list_pipeline_runs(schedule_id=schedule.id, sort_by="asc:created", size=50).items

        labeling = run_downstream("labeling")
        evaluation = run_downstream("evaluation")
        finetune = run_downstream("finetune")
        yield SimpleNamespace(
            server=server, provider=provider, frames=frames, configs=configs, schedule=schedule, loader_runs=loader_runs,
            loader_seconds=loader_seconds, batches_after_submit=batches_after_submit,
            labeling=labeling, evaluation=evaluation, finetune=finetune,
        )  # fmt: skip
    finally:
        server.stop()


def server_batches(server: LocalBatchServer):
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key="unused")
    return client.batches.list(limit=100)


def _output(run, step: str, name: str):
    return run.steps[step].outputs[name][0].load()


def test_the_loader_saw_work_in_progress_then_collected_both_jobs_and_paused(flow):
    reports = [_output(run, "advance_jobs", "loader_report") for run in flow.loader_runs]
    assert reports[0]["still_open"] == 2  # both jobs, submitted before its first run
    assert any(p["shards"].get("in_progress", 0) + p["shards"].get("validating", 0) for p in reports[0]["jobs"])
    assert reports[-1]["still_open"] == 0
    assert sorted(j for r in reports for j in r["collected"]) == sorted({r["job_id"] for r in reports[0]["jobs"]})
    pause = _output(flow.loader_runs[-1], "pause_when_done", "pause_report")
    assert pause["paused"] is True
    assert all(not _output(run, "pause_when_done", "pause_report")["paused"] for run in flow.loader_runs[:-1])


def test_the_schedule_ends_inactive_and_no_further_run_happens(flow):
    from zenml.client import Client

    assert Client().get_schedule(flow.schedule.id).active is False
    time.sleep(2 * LOADER_INTERVAL)
    runs = Client().list_pipeline_runs(schedule_id=flow.schedule.id, size=50)
    assert runs.total == len(flow.loader_runs)


def test_every_input_row_is_in_batch_results_once_and_ran_once(flow):
    from zenml.client import Client

    versions = Client().list_artifact_versions(name="batch_results", size=10).items
    assert len(versions) == 2
    for version in versions:
        results = version.load()
        frame = flow.frames[version.run_metadata["job_name"]]
        assert results["custom_id"].tolist() == frame["review_id"].tolist()
        assert set(results["status"]) == {"succeeded"}
        assert results["label"].tolist() == frame["label"].tolist()  # input columns joined back
    counts = flow.server.execution_counts()
    assert len(counts) == 42 and set(counts.values()) == {1}


def test_labels_metrics_and_finetuning_data_follow_from_the_answers(flow):
    labeled = _output(flow.labeling, "label_results", "labeled_dataset")
    assert labeled["label_valid"].tolist().count(False) == 1
    assert "superb" in labeled.loc[~labeled["label_valid"], "label_problem"].iloc[0]

    report = _output(flow.evaluation, "evaluate_labels", "evaluation_report")
    rows = len(labeled)
    assert report.evaluated == rows
    assert report.accuracy == pytest.approx((rows - 2) / rows)  # one wrong, one invalid
    assert report.coverage == pytest.approx((rows - 1) / rows)

    dataset = _output(flow.finetune, "export_finetune", "finetune_dataset")
    assert len(dataset.train) + len(dataset.validation) == rows - 2  # only rows whose label matched
    example = dataset.train[0]
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    assert orjson.loads(example["messages"][-1]["content"])["sentiment"] in LABELS


def test_a_job_s_artifacts_are_linked_to_one_model_version(flow):
    from zenml.client import Client

    results = flow.labeling.steps["label_results"].inputs["batch_results"][0]
    reference = results.run_metadata["model_version"]
    name, _, version = reference.partition(":")
    model_version = Client().get_model_version(name, version)
    linked = {link.artifact_version.artifact.name for link in Client().list_model_version_artifact_links(model_version_id=model_version.id, size=100).items}
    assert {"batch_job", "batch_results", "labeled_dataset", "evaluation_report", "finetune_dataset"} <= linked


def test_a_dataset_artifact_feeds_the_submit_pipeline_with_its_lineage(flow):
    from zenml.client import Client

    runs = Client().list_pipeline_runs(pipeline_name="submit_pipeline", sort_by="asc:created", size=10).items
    beta = runs[1]
    assert "load_dataset" not in beta.steps
    assert beta.steps["plan_batch"].inputs["dataset"][0].artifact.name == "beta_rows"


def test_submitting_a_collected_job_again_submits_nothing(flow):
    from zenbatch.zenml_ext.runs import run_submit

    run = run_submit(job_config=str(flow.configs["beta"]), provider_config=str(flow.provider))

    step = run.steps["submit_batch"]
    assert step.run_metadata["already_collected"] is True
    assert step.outputs["batch_job"][0].load().collected
    assert len(list(server_batches(flow.server))) == flow.batches_after_submit
