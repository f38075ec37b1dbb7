"""Entry points that run zenbatch's pipelines now (used by the CLI and the demo).

The pipelines only wire steps; what differs between runs (which job, which provider, which
results version) is resolved here and handed to them as parameters, in a copy of the
pipeline's config (``run_configs``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from zenbatch.config import JobConfig
from zenbatch.errors import ConfigError, JobStateError
from zenbatch.zenml_ext.failures import raise_run_failure
from zenbatch.zenml_ext.registry import JOB_ARTIFACT, LABELED_ARTIFACT, job_id_of, job_model, newest_of_job, results_version
from zenbatch.zenml_ext.run_configs import derived_config, pipeline_config, submit_job

if TYPE_CHECKING:
    from zenml.models import PipelineRunResponse

    from zenbatch.zenml_ext.loader import LoaderReport


def run_submit(
    job: JobConfig | str | Path | None = None,
    provider_config: str | Path | None = None,
    config: str | Path | None = None,
    dataset_artifact: str | None = None,
) -> PipelineRunResponse:
    """Run the submit pipeline on a job (a parsed one, or :func:`submit_job`'s); the rest comes from the pipeline config."""
    from zenbatch.zenml_ext.pipelines.submit import submit_pipeline

    if not isinstance(job, JobConfig):
        job = submit_job(job, provider_config, config, dataset_artifact)
    # A stack config (`--config vertex`) also sets the loader's schedule; the submit pipeline runs now.
    with derived_config(pipeline_config("submit", config), {"job": job.model_dump(mode="json")}, drop=("schedule",)) as run_config:
        return _run(submit_pipeline, config_path=run_config)


def run_loader_once(config: str | Path | None = None) -> LoaderReport:
    """One loader pass now, without a schedule; returns its ``loader_report``."""
    from zenbatch.zenml_ext.pipelines.loader import loader_pipeline

    with derived_config(pipeline_config("loader", config), drop=("schedule",)) as run_config:
        run = _run(loader_pipeline, config_path=run_config)
    report: LoaderReport = run.steps["advance_jobs"].outputs["loader_report"][0].load()
    return report


def run_downstream(kind: str, config: str | Path | None = None, version: str | None = None) -> PipelineRunResponse:
    """Run ``labeling``, ``evaluation`` or ``finetune`` for the job of a results version.

    ``version`` pins the ``batch_results`` version (default: the latest). Evaluation and
    fine-tuning use that job's newest ``labeled_dataset``; every output is linked to the job's
    model version.
    """
    import importlib

    pipelines = {"labeling": "labeling_pipeline", "evaluation": "evaluation_pipeline", "finetune": "finetune_pipeline"}
    if kind not in pipelines:
        raise ConfigError(f"unknown downstream pipeline {kind!r}: choose one of {', '.join(pipelines)}")
    results = results_version(version)
    job_id = job_id_of(results)
    parameters: dict[str, Any] = {"job_id": job_id}
    if kind == "labeling":
        parameters["results_version"] = str(results.version)
    else:
        labeled = newest_of_job(LABELED_ARTIFACT, job_id)
        if labeled is None:
            raise JobStateError(f"job {job_id} has no labeled_dataset yet: run `zenbatch label` first")
        parameters["labeled_version"] = str(labeled.version)
    if kind == "finetune":
        state = newest_of_job(JOB_ARTIFACT, job_id)
        if state is None:
            raise JobStateError(f"job {job_id} has no batch_job artifact: it was not submitted through zenbatch")
        parameters["job_version"] = str(state.version)
    options: dict[str, Any] = {}
    model = job_model(results)
    if model is not None:
        options["model"] = model
    pipeline = getattr(importlib.import_module(f"zenbatch.zenml_ext.pipelines.{kind}"), pipelines[kind])
    with derived_config(pipeline_config(kind, config), parameters) as run_config:
        return _run(pipeline, config_path=run_config, **options)


def _run(pipeline: Any, **options: Any) -> PipelineRunResponse:
    """Runs ``pipeline`` now, under a name of its own; a failed step becomes a :class:`PipelineRunError`
    that names it (found by that name: another run of the pipeline may have started since)."""
    run_name = f"{pipeline.name}-{dt.datetime.now(dt.UTC):%Y_%m_%d-%H_%M_%S_%f}-{secrets.token_hex(2)}"
    try:
        run = pipeline.with_options(run_name=run_name, **options)()
    except RuntimeError as exc:  # ZenML's "Pipeline run has failed due to failure in step(s): ..."
        raise_run_failure(pipeline.name, exc, run_name=run_name)
    assert run is not None  # not scheduled: a run comes back
    return cast("PipelineRunResponse", run)  # a ZenML pipeline's call is untyped
