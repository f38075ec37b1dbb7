"""The blob store of an artifact store: ``<artifact store>/zenbatch/blobs``, read and written through ZenML's fileio.

So a job's files live wherever its artifacts do (a local folder, S3, GCS, Azure), once each,
and every step on any machine of the stack reaches them the same way.
"""

from __future__ import annotations

from typing import Any

from zenbatch.blobs import Blobs

FOLDER = "zenbatch/blobs"


def artifact_blobs(artifact_store: Any = None) -> Blobs:
    """The blob store of ``artifact_store`` (default: the active stack's)."""
    from zenml.io import fileio

    if artifact_store is None:
        from zenml.client import Client

        artifact_store = Client().active_stack.artifact_store
    return Blobs(f"{str(artifact_store.path).rstrip('/')}/{FOLDER}", fileio)


def arrow_filesystem(artifact_store: Any) -> Any:
    """A pyarrow file system over the artifact store, for a lazy dataset of its Parquet parts."""
    import pyarrow.fs as pafs

    remote = getattr(artifact_store, "filesystem", None)  # ZenML's S3, GCS and Azure stores hold an fsspec one
    if remote is None:
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(remote))
