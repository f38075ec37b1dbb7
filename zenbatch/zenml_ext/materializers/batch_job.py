"""The ``batch_job`` artifact: a job's state, naming its files by digest.

A version holds ``job.json`` and a card, whatever the job's size. The shard inputs, result files
and results parts it names live once in the artifact store's blob store (see
:mod:`zenbatch.zenml_ext.blob_store`): a file is stored the first time a state naming it is
saved, and fetched into the job's folder under ``ZENBATCH_HOME`` only when a step needs it.

A version saved by an older zenbatch carries copies of its files in ``inputs/`` and ``results/``;
it loads too (its files are copied into the job's folder once, and stored as blobs on the next save).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import orjson
from zenml.enums import ArtifactType, VisualizationType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from zenbatch.blobs import Blobs, file_digest
from zenbatch.home import job_folder
from zenbatch.jobs import BatchJob
from zenbatch.ledger import KEYS_FILE, RIDERS_FILE
from zenbatch.reports import render_job_card
from zenbatch.yaml_config import from_mapping
from zenbatch.zenml_ext.blob_store import artifact_blobs

JOB_FILE = "job.json"
OLDER_FOLDERS = ("inputs", "results")  # the layout of versions that copied every file


class BatchJobMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (BatchJob,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: BatchJob) -> None:
        store_files(data, artifact_blobs(self.artifact_store))
        state = data.model_dump(mode="json")
        state["workdir"] = "."
        for shard in state["shards"]:
            shard["path"] = _relative(shard["path"], data.workdir)
        with fileio.open(os.path.join(self.uri, JOB_FILE), "wb") as handle:
            handle.write(orjson.dumps(state, option=orjson.OPT_INDENT_2))

    def load(self, data_type: type[Any]) -> BatchJob:
        with fileio.open(os.path.join(self.uri, JOB_FILE), "rb") as handle:
            job = from_mapping(BatchJob, orjson.loads(handle.read()), f"the batch_job artifact at {self.uri}")
        workdir = job_folder(job.job_id)
        job.workdir = str(workdir)
        for shard in job.shards:
            shard.path = str(workdir / shard.path) if shard.path else ""
        if fileio.exists(os.path.join(self.uri, OLDER_FOLDERS[0])):
            self._load_older(job, workdir)
        return job.keep_in(artifact_blobs(self.artifact_store))

    def _load_older(self, job: BatchJob, workdir: Path) -> None:
        """A version with copies of its files: bring them here, and merge its results anew into parts."""
        for folder in OLDER_FOLDERS:
            (workdir / folder).mkdir(parents=True, exist_ok=True)
            source = os.path.join(self.uri, folder)
            for name in fileio.listdir(source) if fileio.exists(source) else []:
                fileio.copy(os.path.join(source, str(name)), str(workdir / folder / str(name)), overwrite=True)
        for shard in job.shards:
            for kind, field in (("output", "output_sha256"), ("errors", "error_sha256")):
                path = job.result_file(shard, kind)
                if shard.batch_id and path.exists():
                    setattr(shard, field, file_digest(path))
            shard.collected = False  # its rows go into a results part on the next collect
        job.parts = []

    def save_visualizations(self, data: BatchJob) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, "job.html")
        with fileio.open(path, "w") as handle:
            handle.write(render_job_card(data))
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: BatchJob) -> dict[str, Any]:
        return {
            "job_id": data.job_id,
            "job_name": data.name,
            "provider": data.provider,
            "endpoint": data.endpoint,
            "model": data.model,
            "shards": len(data.shards),
            "requests": sum(s.requests for s in data.shards if s.attempt == 1),
            "estimated_prompt_tokens": data.estimate.prompt_tokens,
            "estimated_batch_cost": data.estimate.batch_cost,
            "estimated_realtime_cost": data.estimate.realtime_cost,
            "batch_ids": [s.batch_id for s in data.shards if s.batch_id],
            "shard_statuses": data.status_counts(),
            "collected": data.collected,
            "deferred": {str(s.index): s.deferred for s in data.pending_shards if s.deferred},
            "running_hours": round(data.age_hours(), 2) if data.open_shards else 0.0,
        }


def store_files(job: BatchJob, blobs: Blobs) -> None:
    """Put every file the state names into ``blobs`` (one ``exists`` for each file stored before)."""
    for shard in job.shards:
        if shard.requests and not blobs.has(shard.sha256):
            blobs.put(job.input_file(shard), shard.sha256)
        for kind, digest in (("output", shard.output_sha256), ("errors", shard.error_sha256)):
            if digest and not blobs.has(digest):
                blobs.put(job.result_file(shard, kind), digest)
    for part in job.parts:
        if not blobs.has(part.sha256, "parquet"):
            blobs.put(job.part_file(part), part.sha256, "parquet")
    for digest, name in ((job.riders_sha256, RIDERS_FILE), (job.keys_sha256, KEYS_FILE)):
        if digest and not blobs.has(digest, "parquet"):
            blobs.put(job.stored_file(digest, name), digest, "parquet")


def _relative(path: str, workdir: str) -> str:
    """A shard's path inside the job's folder (``inputs/...``), as the saved state holds it."""
    if not os.path.isabs(path):
        return path
    try:
        return str(Path(path).relative_to(workdir))
    except ValueError:
        return f"inputs/{Path(path).name}"
