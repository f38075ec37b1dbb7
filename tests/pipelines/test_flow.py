"""The whole flow through real ZenML runs (the session's ``flow``, tests/flow.py): submit two jobs,
let the scheduled loader collect them and pause itself, then label, evaluate and export
fine-tuning data.
"""

from __future__ import annotations

import orjson
import pytest

from tests.flow import LABELS, output, server_batches

pytestmark = pytest.mark.pipeline


def test_the_loader_saw_work_in_progress_then_collected_both_jobs_and_paused(flow):
    reports = [output(run, "advance_jobs", "loader_report") for run in flow.loader_runs]
    assert reports[0].still_open == 2  # both jobs, submitted before its first run
    assert any(p.shards.get("in_progress", 0) + p.shards.get("validating", 0) for p in reports[0].jobs)
    assert reports[-1].still_open == 0
    assert sorted(j for r in reports for j in r.collected) == sorted({p.job_id for p in reports[0].jobs})
    pause = output(flow.loader_runs[-1], "pause_when_done", "pause_report")
    assert pause.paused is True and pause.report is not None and pause.report.zenml_flag_flipped
    assert all(not output(run, "pause_when_done", "pause_report").paused for run in flow.loader_runs[:-1])


def test_the_schedule_ends_inactive_and_no_further_run_happens(flow):
    from zenml.client import Client

    from zenbatch.zenml_ext.local_orchestrator import schedule_is_running

    assert Client().get_schedule(flow.schedule.id).active is False
    # No process runs the schedule any more (its lease is free), so nothing can fire it again,
    # and the run that paused it was its last.
    assert not schedule_is_running(flow.schedule.id)
    runs = Client().list_pipeline_runs(schedule_id=flow.schedule.id, sort_by="asc:created", size=50).items
    assert [r.id for r in runs] == [r.id for r in flow.loader_runs]
    assert output(runs[-1], "pause_when_done", "pause_report").paused is True


def test_every_input_row_is_in_batch_results_once_and_ran_once(flow):
    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, versions_tagged

    for name, job_id in flow.job_ids.items():
        versions = versions_tagged(f"zenbatch-job-{job_id}", name=RESULTS_ARTIFACT)
        assert len(versions) == 1  # collected once
        results = versions[0].load().to_pandas()
        frame = flow.frames[name]
        assert results["custom_id"].tolist() == frame["review_id"].tolist()
        assert set(results["status"]) == {"succeeded"}
        assert results["label"].tolist() == frame["label"].tolist()  # input columns joined back
    rows = {cid for frame in flow.frames.values() for cid in frame["review_id"]}
    counts = {cid: n for cid, n in flow.server.execution_counts().items() if cid in rows}  # other tests share the server
    assert len(counts) == 42 and set(counts.values()) == {1}


def test_labels_metrics_and_finetuning_data_follow_from_the_answers(flow):
    labeled = output(flow.labeling, "label_results", "labeled_dataset").to_pandas()
    assert labeled["label_valid"].tolist().count(False) == 1
    assert "superb" in labeled.loc[~labeled["label_valid"], "label_problem"].iloc[0]

    report = output(flow.evaluation, "evaluate_labels", "evaluation_report")
    rows = len(labeled)
    assert report.evaluated == rows
    assert report.accuracy == pytest.approx((rows - 2) / rows)  # one wrong, one invalid
    assert report.coverage == pytest.approx((rows - 1) / rows)

    dataset = output(flow.finetune, "export_finetune", "finetune_dataset")
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
    links = Client().list_model_version_artifact_links(model_version_id=model_version.id, size=100).items
    linked = {link.artifact_version.artifact.name for link in links}
    assert {"batch_job", "batch_results", "labeled_dataset", "evaluation_report", "finetune_dataset"} <= linked


def test_a_dataset_artifact_feeds_the_submit_pipeline_with_its_lineage(flow):
    beta = flow.submits["beta"]
    assert "load_dataset" not in beta.steps and "load_dataset" in flow.submits["alpha"].steps
    assert beta.steps["plan_batch"].inputs["dataset"][0].artifact.name == "beta_rows"


def test_submitting_a_collected_job_again_submits_nothing(flow):
    from zenbatch.zenml_ext.runs import run_submit

    before = len(list(server_batches(flow.server)))
    run = run_submit(str(flow.configs["beta"]), provider_config=str(flow.provider))

    step = run.steps["submit_batch"]
    assert step.run_metadata["already_collected"] is True
    assert step.outputs["batch_job"][0].load().collected
    assert len(list(server_batches(flow.server))) == before
