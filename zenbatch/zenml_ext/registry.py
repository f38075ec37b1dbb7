"""The job registry: ``batch_job`` artifact versions, found by tags.

Every version of a job's state carries the tags ``zenbatch`` and ``zenbatch-job-<job_id>``.
The newest version of a job still running also carries ``zenbatch-open``; a collected job's
newest version carries ``zenbatch-collected``. Whenever a newer state is saved, ``zenbatch-open``
is taken off the older versions, so exactly one version per open job is tagged open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from zenbatch.zenml_ext.tags import COLLECTED_TAG, OPEN_TAG

if TYPE_CHECKING:
    from zenml.models import ArtifactVersionResponse

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
