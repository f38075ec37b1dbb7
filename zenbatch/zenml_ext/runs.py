"""Entry points that run zenbatch's pipelines with their configs (used by the CLI and the demo).

The pipelines only wire steps; what differs between runs (which job, which provider, which
results version) is resolved here and handed to them as parameters: the job config as
content, so a step never reads a file of the submitting machine.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenbatch.config import DatasetConfig, JobConfig, ProviderConfig
from zenbatch.defaults import SAMPLE_JOB, config_path
from zenbatch.errors import ConfigError, JobStateError
from zenbatch.yaml_config import from_mapping, load_yaml
from zenbatch.zenml_ext.failures import raise_run_failure
from zenbatch.zenml_ext.registry import JOB_ARTIFACT, LABELED_ARTIFACT, RESULTS_ARTIFACT, job_id_of, newest_of_job
from zenbatch.zenml_ext.run_configs import derived_config, pipeline_config

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse, PipelineRunResponse

    from zenbatch.zenml_ext.loader import LoaderReport


def submit_job(job_config: str | Path | None = None, provider_config: str | Path | None = None,
               config: str | Path | None = None, dataset_artifact: str | None = None) -> JobConfig:
    """The job a submit run gets, parsed once.

    It is ``job_config`` (a file or a shipped job's name), else the pipeline config's own
    ``parameters.job``, else the sample job; ``provider_config`` (a file or openai, azure,
    local) replaces its provider, and ``dataset_artifact`` (``name[:version]``) its dataset.
    """
    path = pipeline_config("submit", config)
    inline = (load_yaml(path).get("parameters") or {}).get("job")
    provider = config_path("providers", provider_config) if provider_config is not None else None
    if job_config is None and isinstance(inline, dict):
        # Paths in it are relative to the pipeline config, as a job file's are to the job file.
        job = from_mapping(JobConfig, {"base_dir": str(path.resolve().parent), **inline}, f"{path} (parameters.job)")
        if provider is not None:
            job = job.model_copy(update={"provider": ProviderConfig.from_yaml(provider)})
    else:
        job = JobConfig.from_yaml(config_path("jobs", job_config, SAMPLE_JOB), provider=provider)
    if dataset_artifact:
        name, _, version = dataset_artifact.partition(":")
        job.dataset = DatasetConfig(artifact=name, version=version or None)
    return job


def file_job(path: str | Path, provider_config: str | Path | None = None, *, rewrite_for: str | None = None,
             base_model: str | None = None) -> JobConfig:
    """A job that submits an existing batch file (named after it); ``provider_config`` as for :func:`submit_job` (default: local)."""
    from zenbatch.datasets import is_uri

    source = str(path) if is_uri(path) else str(Path(path).resolve())
    provider = ProviderConfig.from_yaml(config_path("providers", provider_config, "local"))
    name = Path(str(path).rsplit("/", 1)[-1]).stem
    return from_mapping(JobConfig, {"name": name, "provider": provider, "input_file": {
        "path": source, "rewrite_for": rewrite_for, "base_model": base_model}}, str(path))  # fmt: skip


def run_submit(job: JobConfig | str | Path | None = None, provider_config: str | Path | None = None,
               config: str | Path | None = None, dataset_artifact: str | None = None) -> PipelineRunResponse:
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


def cancel_job(job_id: str) -> int:
    """Cancel a job's open batches and save its state; returns how many were cancelled."""
    from zenml import save_artifact

    from zenbatch.lifecycle import cancel
    from zenbatch.zenml_ext.materializers.batch_job import BatchJobMaterializer
    from zenbatch.zenml_ext.overview import load_job
    from zenbatch.zenml_ext.providers import provider_for
    from zenbatch.zenml_ext.registry import job_tag, mark_newest
    from zenbatch.zenml_ext.tags import ZENBATCH_TAG

    job = load_job(job_id)
    if job.collected:
        raise JobStateError(f"job {job_id} is already collected: nothing to cancel")
    asked = cancel(job, provider_for(job))
    state = save_artifact(job, name=JOB_ARTIFACT, tags=[ZENBATCH_TAG, job_tag(job_id)], materializer=BatchJobMaterializer)
    mark_newest(state.id, job_id, collected=False)
    return len(asked)


def results_version(version: str | None = None) -> ArtifactVersionResponse:
    """The ``batch_results`` version to work on: the latest, or a pinned version (number or id)."""
    from zenml.client import Client

    try:
        return Client().get_artifact_version(RESULTS_ARTIFACT, version=version)
    except KeyError:
        which = f"version {version!r} of" if version else "any"
        raise ConfigError(
            f"no {which} {RESULTS_ARTIFACT!r} artifact: run the loader (zenbatch wait) until the job is collected"
        ) from None


def job_model(artifact: ArtifactVersionResponse) -> Any:
    """The Model (version) of the job an artifact belongs to, or None when it has none."""
    from zenml import Model

    reference = str(artifact.run_metadata.get("model_version") or "")
    if ":" not in reference:
        return None
    name, _, version = reference.partition(":")
    return Model(name=name, version=version)


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
    return run  # type: ignore[no-any-return]
