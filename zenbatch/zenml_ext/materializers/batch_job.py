"""The ``batch_job`` artifact: the job's state plus its input shards and downloaded results.

Files travel with the artifact, so a loader running in another pod or machine finds them;
on load they are copied into a local work folder (``ZENBATCH_HOME``, default ``~/.zenbatch``).
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import orjson
from zenml.enums import ArtifactType, VisualizationType
from zenml.io import fileio
from zenml.materializers.base_materializer import BaseMaterializer

from zenbatch.home import job_folder
from zenbatch.jobs import BatchJob
from zenbatch.reports import render_job_card

JOB_FILE = "job.json"


class BatchJobMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (BatchJob,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: BatchJob) -> None:
        job = data.model_copy(deep=True)
        for folder in ("inputs", "results"):
            fileio.makedirs(os.path.join(self.uri, folder))
        for shard in job.shards:
            name = f"shard-{shard.index:04d}.jsonl"  # stable: a job saved and loaded again keeps its names
            fileio.copy(shard.path, os.path.join(self.uri, "inputs", name), overwrite=True)
            shard.path = f"inputs/{name}"
            for path in data.result_files(shard):
                if path.exists():
                    fileio.copy(str(path), os.path.join(self.uri, "results", path.name), overwrite=True)
        job.workdir = "."
        with fileio.open(os.path.join(self.uri, JOB_FILE), "wb") as handle:
            handle.write(orjson.dumps(job.model_dump(mode="json"), option=orjson.OPT_INDENT_2))

    def load(self, data_type: type[Any]) -> BatchJob:
        with fileio.open(os.path.join(self.uri, JOB_FILE), "rb") as handle:
            job = BatchJob.model_validate(orjson.loads(handle.read()))
        workdir = job_folder(job.job_id)
        for folder in ("inputs", "results"):
            (workdir / folder).mkdir(parents=True, exist_ok=True)
            source = os.path.join(self.uri, folder)
            for name in fileio.listdir(source) if fileio.exists(source) else []:
                fileio.copy(os.path.join(source, str(name)), str(workdir / folder / str(name)), overwrite=True)
        job.workdir = str(workdir)
        for shard in job.shards:
            shard.path = str(workdir / shard.path)
        return job

    def save_visualizations(self, data: BatchJob) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, "job.html")
        with fileio.open(path, "w") as handle:
            handle.write(render_job_card(data))
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: BatchJob) -> dict[str, Any]:
        statuses: dict[str, int] = {}
        for shard in data.shards:
            statuses[shard.status.value] = statuses.get(shard.status.value, 0) + 1
        return {
            "job_id": data.job_id,
            "job_name": data.name,
            "provider": data.provider,
            "endpoint": data.endpoint,
            "model": data.model,
            "shards": len(data.shards),
            "requests": sum(s.requests for s in data.shards if s.attempt == 1),
            "estimated_prompt_tokens": int(data.estimate.get("prompt_tokens", 0)),
            "estimated_batch_cost": float(data.estimate.get("batch_cost", 0.0)),
            "estimated_realtime_cost": float(data.estimate.get("realtime_cost", 0.0)),
            "batch_ids": ", ".join(s.batch_id for s in data.shards if s.batch_id),
            "shard_statuses": statuses,
            "collected": data.collected,
        }
