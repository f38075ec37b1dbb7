"""A real local batch server (echo engine) and jobs built from small datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from zenbatch.config import JobConfig, ProviderConfig
from zenbatch.jobs import BatchJob
from zenbatch.lifecycle import prepare_job
from zenbatch.providers.base import BatchProvider, RetryPolicy
from zenbatch.providers.factory import make_provider
from zenbatch.server import LocalBatchServer


class JobKit:
    """Builds a job over a server and keeps the job file as a crash-safe caller would."""

    def __init__(self, server: LocalBatchServer, workdir: Path):
        self.server = server
        self.workdir = workdir

    def frame(self, rows: int) -> pd.DataFrame:
        return pd.DataFrame({"id": [f"row{i:03d}" for i in range(rows)], "text": [f"text number {i}" for i in range(rows)]})

    def config(self, rows: int, **provider: object) -> JobConfig:
        return JobConfig.model_validate({
            "name": "lifecycle-test",
            "template": {"model": "gpt-4o-mini", "user_template": "Say: {text}", "id_column": "id", "parameters": {"max_tokens": 5}},
            "provider": {"kind": "local", "base_url": self.server.base_url, **provider},
        })  # fmt: skip

    def provider(self, **provider: object) -> BatchProvider:
        config = ProviderConfig.model_validate({"kind": "local", "base_url": self.server.base_url, **provider})
        return make_provider(config, retry=RetryPolicy(attempts=3, base=0.01))

    def job(self, rows: int, name: str = "job", provider: dict | None = None, **kwargs: object) -> tuple[BatchJob, pd.DataFrame]:
        limits = kwargs.pop("limits", {})
        frame = self.frame(rows)
        job, _ = prepare_job(self.config(rows, limits=limits, **(provider or {})), self.workdir / name, frame, **kwargs)
        return job, frame

    def save_to(self, name: str):
        path = self.workdir / f"{name}.json"
        return lambda job: job.save(path)

    def batches_with(self, sha256: str) -> list[str]:
        provider = self.provider()
        return [b.id for b in provider.iter_batches(1000) if b.metadata.get("zenbatch_sha256") == sha256]


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    started: list[LocalBatchServer] = []

    def start(**options: object) -> JobKit:
        server = LocalBatchServer(data_dir=tmp_path / f"server{len(started)}", engine="echo", workers=2, **options)
        server.start()
        started.append(server)
        return JobKit(server, tmp_path / f"work{len(started)}")

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def kit(server_factory) -> JobKit:
    return server_factory()
