"""Entry points that run zenbatch's pipelines with their configs (used by the CLI and the demo).

The pipelines only wire steps; what differs between runs (which job, which provider, which
results version) is resolved here and handed to them as parameters and options.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenbatch.errors import ConfigError, JobStateError
from zenbatch.zenml_ext.failures import raise_run_failure
from zenbatch.zenml_ext.registry import JOB_ARTIFACT, LABELED_ARTIFACT, RESULTS_ARTIFACT, job_id_of, newest_of_job

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse, PipelineRunResponse

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs" / "pipelines"


def _config(name: str, path: str | Path | None) -> str:
    chosen = Path(path) if path else CONFIGS / f"{name}.yaml"
    if not chosen.exists():
        raise ConfigError(f"pipeline config {chosen} does not exist; pass an existing YAML (see configs/pipelines/)")
    return str(chosen)


def _derived_config(path: str, parameters: dict[str, Any] | None = None, *, drop: tuple[str, ...] = ()) -> str:
    """The config at ``path`` with ``parameters`` overriding its own and ``drop`` keys removed.

    ZenML refuses a parameter set both in the file and in code, so the override is written to a
    new file.
    """
    import tempfile

    import yaml

    if not parameters and not drop:
        return path
    config = yaml.safe_load(Path(path).read_text()) or {}
    if parameters:
        config["parameters"] = {**(config.get("parameters") or {}), **parameters}
    for key in drop:
        config.pop(key, None)
    handle = tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="zenbatch-run-", delete=False)
    with handle:
        yaml.safe_dump(config, handle)
    return handle.name


def run_submit(job_config: str | None = None, provider_config: str | None = None, config: str | Path | None = None,
               dataset_artifact: str | None = None) -> PipelineRunResponse:
    """Run the submit pipeline; parameters left out come from the pipeline config.

    The dataset is the job config's file, or a DataFrame artifact: the job config's
    ``dataset.artifact`` or ``dataset_artifact`` here (``name`` or ``name:version``).
    """
    from pipelines.submit import submit_pipeline

    parameters: dict[str, Any] = {}
    if job_config:
        parameters["job_config"] = str(Path(job_config).resolve())
    if provider_config:
        parameters["provider_config"] = str(Path(provider_config).resolve())
    if dataset_artifact:
        name, _, version = dataset_artifact.partition(":")
        parameters.update(dataset_artifact=name, dataset_version=version or None)
    elif job_config:
        from zenbatch.config import JobConfig

        dataset = JobConfig.from_yaml(job_config).dataset
        if dataset is not None and dataset.artifact:
            parameters.update(dataset_artifact=dataset.artifact, dataset_version=dataset.version)
    return _run(submit_pipeline, config_path=_derived_config(_config("submit", config), parameters))


def run_loader(config: str | Path | None = None, *, name: str | None = None, interval_seconds: int | None = None,
               cron: str | None = None, end_time: dt.datetime | None = None) -> str:
    """Schedule the loader; on the local scheduling orchestrator this returns once it paused itself.

    A paused schedule of the same name from an earlier job is replaced, and so is an active one
    of the local scheduling orchestrator whose process ended (killed or interrupted): the new
    loader resumes its work. Any other active one means a loader is already running, and nothing
    new is scheduled.

    Returns:
        The schedule's name.
    """
    import yaml
    from zenml.client import Client
    from zenml.config.schedule import Schedule

    from pipelines.loader import loader_pipeline

    path = _config("loader", config)
    client = Client()
    orchestrator = client.active_stack.orchestrator
    if not orchestrator.config.is_schedulable:
        raise ConfigError(
            f"the active stack's orchestrator {orchestrator.name!r} (flavor {orchestrator.flavor}) cannot run "
            "schedules: `zenbatch init` registers and activates the local scheduling stack, or switch to a "
            "Kubernetes, Vertex AI or SageMaker stack (configs/stacks/)"
        )
    settings = dict((yaml.safe_load(Path(path).read_text()) or {}).get("schedule") or {})
    name = name or settings.pop("name", None) or "zenbatch-loader"
    settings.pop("name", None)
    for existing in client.list_schedules(name=name).items:
        if existing.active and not _abandoned_locally(existing):
            raise JobStateError(
                f"the schedule {name!r} is active: a loader is already running; wait for it to pause "
                f"itself, or deactivate it with `zenml pipeline schedule update {existing.id} --active false`"
            )
        client.delete_schedule(existing.id)
    if cron:
        settings = {"cron_expression": cron}
    elif interval_seconds:
        settings = {"interval_second": interval_seconds}
    if "interval_second" in settings and "start_time" not in settings:
        # An interval needs a start; "from now" is what a config file cannot say.
        settings["start_time"] = dt.datetime.now(dt.timezone.utc)
    if not settings:
        settings = {"interval_second": 60, "start_time": dt.datetime.now(dt.timezone.utc)}
    if end_time is not None:  # give up then, collected or not (the jobs stay open for a later loader)
        settings["end_time"] = end_time
    schedule = Schedule(name=name, **settings)
    try:
        loader_pipeline.with_options(config_path=_derived_config(path, drop=("schedule",)), schedule=schedule)()
    except RuntimeError as exc:  # a run failed on a schedule that runs here (ScheduleRunError passes through)
        raise_run_failure("loader_pipeline", exc)
    return name


def _abandoned_locally(schedule: Any) -> bool:
    """An active schedule of the local scheduling orchestrator whose process has ended."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    from zenbatch.zenml_ext.local_orchestrator import FLAVOR, schedule_is_running

    orchestrator_id = schedule.orchestrator_id
    if orchestrator_id is None:
        return False
    try:
        component = Client().get_stack_component(StackComponentType.ORCHESTRATOR, orchestrator_id)
    except KeyError:
        return False
    return component.flavor_name == FLAVOR and not schedule_is_running(schedule.id)


def run_loader_once(config: str | Path | None = None) -> dict[str, Any]:
    """One loader pass now, without a schedule; returns its ``loader_report``."""
    from pipelines.loader import loader_pipeline

    run = _run(loader_pipeline, config_path=_derived_config(_config("loader", config), drop=("schedule",)))
    return run.steps["advance_jobs"].outputs["loader_report"][0].load()


def cancel_job(job_id: str) -> int:
    """Cancel a job's open batches and save its state; returns how many were cancelled."""
    from zenml import save_artifact

    from materializers.batch_job import BatchJobMaterializer
    from zenbatch.lifecycle import cancel
    from zenbatch.zenml_ext.overview import load_job
    from zenbatch.zenml_ext.providers import provider_for
    from zenbatch.zenml_ext.registry import job_tag, mark_newest
    from zenbatch.zenml_ext.tags import ZENBATCH_TAG

    job = load_job(job_id)
    if job.collected:
        raise JobStateError(f"job {job_id} is already collected: nothing to cancel")
    asked = cancel(job, provider_for(job), save=lambda _: None)
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
    options: dict[str, Any] = {"config_path": _derived_config(_config(kind, config), parameters)}
    model = job_model(results)
    if model is not None:
        options["model"] = model
    pipeline = getattr(importlib.import_module(f"pipelines.{kind}"), pipelines[kind])
    return _run(pipeline, **options)


def _run(pipeline: Any, **options: Any) -> PipelineRunResponse:
    """Runs ``pipeline`` now; a failed step becomes a :class:`PipelineRunError` that names it."""
    try:
        run = pipeline.with_options(**options)()
    except RuntimeError as exc:  # ZenML's "Pipeline run has failed due to failure in step(s): ..."
        raise_run_failure(pipeline.name, exc)
    assert run is not None  # not scheduled: a run comes back
    return run
