"""The job registry: ``batch_job`` artifact versions, found by tags.

Every version of a job's state carries the tags ``zenbatch`` and ``zenbatch-job-<job_id>``.
The newest version of a job still running also carries ``zenbatch-open``; a collected job's
newest version carries ``zenbatch-collected``. Whenever a newer state is saved, ``zenbatch-open``
is taken off the older versions, so exactly one version per open job is tagged open.
A job's artifacts are linked to its model version, when it has one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from zenbatch.errors import ConfigError
from zenbatch.zenml_ext.tags import COLLECTED_TAG, OPEN_TAG, ZENBATCH_TAG

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse

    from zenbatch.jobs import BatchJob

JOB_ARTIFACT = "batch_job"
RESULTS_ARTIFACT = "batch_results"
LABELED_ARTIFACT = "labeled_dataset"
PAGE = 1000


def job_tag(job_id: str) -> str:
    return f"zenbatch-job-{job_id}"


def versions_tagged(*tags: str, name: str = JOB_ARTIFACT) -> list[ArtifactVersionResponse]:
    from zenml.client import Client

    # Tag filters match any listed tag, so filter by one and check the rest here.
    found = Client().list_artifact_versions(name=name, tags=[tags[0]], sort_by="desc:created", size=PAGE).items
    return [v for v in found if all(t in {tag.name for tag in v.tags} for t in tags[1:])]


def open_job_versions() -> list[ArtifactVersionResponse]:
    """The newest open ``batch_job`` version of every open job, oldest job first."""
    newest: dict[str, ArtifactVersionResponse] = {}
    for version in versions_tagged(OPEN_TAG):
        newest.setdefault(job_id_of(version), version)
    return list(reversed(newest.values()))


def latest_job_version(job_id: str) -> ArtifactVersionResponse | None:
    """The newest saved state of a job, if it was ever submitted."""
    return newest_of_job(JOB_ARTIFACT, job_id)


def job_id_of(version: ArtifactVersionResponse) -> str:
    for tag in version.tags:
        if tag.name.startswith("zenbatch-job-"):
            return tag.name.removeprefix("zenbatch-job-")
    return str(version.run_metadata.get("job_id", version.id))


def is_collected(version: ArtifactVersionResponse) -> bool:
    return COLLECTED_TAG in {tag.name for tag in version.tags}


def mark_newest(version_id: UUID, job_id: str, *, collected: bool) -> None:
    """Tag ``version_id`` as the job's newest state and retire the open tag of the older ones."""
    from zenml import add_tags, remove_tags

    add_tags(tags=[job_tag(job_id), COLLECTED_TAG if collected else OPEN_TAG], artifact_version_id=version_id)
    for older in versions_tagged(job_tag(job_id), OPEN_TAG):
        if older.id != version_id:
            remove_tags(tags=[OPEN_TAG], artifact_version_id=older.id)
    if collected:
        remove_tags(tags=[OPEN_TAG], artifact_version_id=version_id)


def newest_of_job(name: str, job_id: str) -> ArtifactVersionResponse | None:
    """The newest version of the artifact ``name`` tagged with the job, if any."""
    versions = versions_tagged(job_tag(job_id), name=name)
    return versions[0] if versions else None


def save_job_state(job: BatchJob, *, collected: bool) -> ArtifactVersionResponse:
    """Save ``job`` as its newest ``batch_job`` version, linked to its model version."""
    from zenml import save_artifact

    from zenbatch.zenml_ext.materializers.batch_job import BatchJobMaterializer

    state = save_artifact(job, name=JOB_ARTIFACT, tags=[ZENBATCH_TAG, job_tag(job.job_id)], materializer=BatchJobMaterializer)
    link_to_job_model(state, job)
    mark_newest(state.id, job.job_id, collected=collected)
    return state


def results_version(version: str | None = None) -> ArtifactVersionResponse:
    """The ``batch_results`` version to work on: the latest, or a pinned version (number or id)."""
    from zenml.client import Client

    try:
        return Client().get_artifact_version(RESULTS_ARTIFACT, version=version)
    except KeyError:
        which = f"version {version!r} of" if version else "any"
        raise ConfigError(f"no {which} {RESULTS_ARTIFACT!r} artifact: run the loader (zenbatch wait) until the job is collected") from None


def model_of(reference: str | None) -> Any:
    """The ZenML Model (version) named ``name:version``, or None."""
    from zenml import Model

    if not reference or ":" not in reference:
        return None
    name, _, version = reference.partition(":")
    return Model(name=name, version=version)


def job_model(artifact: ArtifactVersionResponse) -> Any:
    """The Model (version) of the job an artifact belongs to, or None when it has none."""
    return model_of(str(artifact.run_metadata.get("model_version") or ""))


def link_to_job_model(artifact: Any, job: BatchJob) -> None:
    """Link a saved artifact of ``job`` to the job's model version, when it has one."""
    from zenml.model.utils import link_artifact_to_model

    model = model_of(job.model_version)
    if model is not None:
        link_artifact_to_model(artifact, model=model)
