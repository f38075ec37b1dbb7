"""The request ledger in ZenML: a ``request_ledger`` artifact version per collected job, its rows in the blob store.

It lives where the jobs live, for the same reason: every machine and every pod of a stack sees
ZenML's server and artifact store alike, and nothing of it is on one disk. A version is a small
:class:`LedgerSegment` naming a Parquet file (request key, custom_id, status, batch) kept once
in the artifact store's blob store; it is tagged with the provider it was answered by
(``zenbatch-scope-<hash>``), since the same request asked of another provider is another request.
Keys in flight come from the open jobs' key files.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from pydantic import BaseModel

from zenbatch.config import ProviderConfig
from zenbatch.jobs import BatchJob
from zenbatch.ledger import ANSWER_COLUMNS, KEYS_FILE, SEGMENT_SCHEMA, segment
from zenbatch.parts import ResultsView
from zenbatch.zenml_ext.blob_store import artifact_blobs
from zenbatch.zenml_ext.registry import job_tag, open_job_versions, versions_tagged
from zenbatch.zenml_ext.tags import ZENBATCH_TAG

LEDGER_ARTIFACT = "request_ledger"


class LedgerSegment(BaseModel):
    """One collected job's final answers: ``rows`` keys in the blob store's Parquet file ``sha256``."""

    job_id: str
    scope: str
    sha256: str
    rows: int


def scope_of(provider: ProviderConfig) -> str:
    """Which provider answers: its kind and address (a hash; names no key)."""
    return hashlib.blake2b(f"{provider.kind}\n{provider.address}".encode(), digest_size=6).hexdigest()


def scope_tag(scope: str) -> str:
    return f"zenbatch-scope-{scope}"


def save_segment(job: BatchJob, results: ResultsView) -> LedgerSegment:
    """Record a collected job's final rows in the ledger."""
    from zenml import save_artifact

    blobs = artifact_blobs()
    columns = ["request_key", "custom_id", "status", "retryable", "batch_id", "reused_from", "attempts", "cost_usd"]
    frames = ((part.sha256, frame) for part, frame in zip(results.parts, results.iter_frames(columns)))
    rows = 0
    with tempfile.TemporaryDirectory(prefix="zenbatch-ledger-") as folder:
        path = Path(folder) / "segment.parquet"
        with pq.ParquetWriter(path, SEGMENT_SCHEMA, compression="zstd") as writer:
            for table in segment(frames):  # a part at a time
                writer.write_table(table)
                rows += table.num_rows
        digest = blobs.put(path, kind="parquet")
    scope = scope_of(job.provider_config)
    found = LedgerSegment(job_id=job.job_id, scope=scope, sha256=digest, rows=rows)
    save_artifact(found, name=LEDGER_ARTIFACT, tags=[ZENBATCH_TAG, job_tag(job.job_id), scope_tag(scope)])
    return found


class ArtifactLedger:
    """The ledger of one provider scope, read once, when first asked."""

    def __init__(self, scope: str, *, exclude_job: str | None = None):
        self.scope, self.exclude_job = scope, exclude_job
        self._answers: pd.DataFrame | None = None
        self._flying: dict[str, str] | None = None

    def answers(self, keys: list[str]) -> pd.DataFrame:
        if self._answers is None:
            self._answers = self._read_segments()
        return self._answers.loc[self._answers.index.intersection(pd.Index(keys).unique())]

    def in_flight(self, keys: list[str]) -> dict[str, str]:
        if self._flying is None:
            self._flying = self._read_open_jobs()
        return {key: self._flying[key] for key in keys if key in self._flying}

    def _read_segments(self) -> pd.DataFrame:
        blobs = artifact_blobs()
        frames = []
        for version in versions_tagged(scope_tag(self.scope), name=LEDGER_ARTIFACT):  # newest first: the newest answer wins
            found: LedgerSegment = version.load()
            with blobs.open(found.sha256) as handle:
                rows = pd.read_parquet(handle)
            rows["request_key"] = [key.hex() for key in rows["request_key"]]
            frames.append(rows.assign(job_id=found.job_id))
        if not frames:
            return pd.DataFrame(columns=ANSWER_COLUMNS, index=pd.Index([], name="request_key"))
        return pd.concat(frames, ignore_index=True).drop_duplicates("request_key").set_index("request_key")[ANSWER_COLUMNS]

    def _read_open_jobs(self) -> dict[str, str]:
        flying: dict[str, str] = {}
        for version in open_job_versions():
            job: BatchJob = version.load()
            if job.job_id == self.exclude_job or not job.keys_sha256 or scope_of(job.provider_config) != self.scope:
                continue
            keys = pq.read_table(job.stored_file(job.keys_sha256, KEYS_FILE)).column("request_key").to_pylist()
            flying.update(dict.fromkeys((key.hex() for key in keys), job.job_id))
        return flying
