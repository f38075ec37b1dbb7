"""A job's input rows, a range at a time, from the dataset artifact it was planned from.

A DataFrame artifact saved by ZenML's pandas materializer is one Parquet file: only the row
groups that hold the asked rows are read, so a loader pass reads the rows of the shards it
collects, not the whole dataset. An artifact kept any other way is loaded once per pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pandas as pd

from zenbatch.blobs import CountedFile, Traffic
from zenbatch.lifecycle import InputRows

PANDAS_PARQUET = "df.parquet.gzip"  # ZenML's PandasMaterializer file


def dataset_rows(version_id: str, traffic: Traffic | None = None) -> InputRows:
    """Rows ``[start, stop)`` of the dataset artifact ``version_id``; bytes read are added to ``traffic``."""
    from zenml.client import Client
    from zenml.io import fileio

    version = Client().get_artifact_version(UUID(version_id))
    path = os.path.join(version.uri, PANDAS_PARQUET)
    if not fileio.exists(path):
        frame = version.load()
        return lambda start, stop: frame.iloc[start:stop]
    return _ParquetRows(lambda: fileio.open(path, "rb"), traffic)


class _ParquetRows:
    """Row ranges of one Parquet file, reading only the row groups that hold them (the last one kept).

    The file is opened at the first call: a pass that collects nothing reads nothing of it.
    """

    def __init__(self, opener: Callable[[], Any], traffic: Traffic | None):
        self.opener, self.traffic = opener, traffic
        self.file: Any = None
        self.starts = [0]
        self.kept: tuple[list[int], Any] | None = None

    def _open(self) -> None:
        import pyarrow.parquet as pq

        self.file = pq.ParquetFile(CountedFile(self.opener(), self.traffic))
        for group in range(self.file.metadata.num_row_groups):
            self.starts.append(self.starts[-1] + self.file.metadata.row_group(group).num_rows)

    def __call__(self, start: int, stop: int) -> pd.DataFrame:
        if self.file is None:
            self._open()
        groups = [g for g in range(len(self.starts) - 1) if self.starts[g] < stop and self.starts[g + 1] > start]
        if self.kept is None or self.kept[0] != groups:
            self.kept = (groups, self.file.read_row_groups(groups))
        offset = self.starts[groups[0]] if groups else 0
        table = self.kept[1].slice(start - offset, stop - start)
        return table.to_pandas().reset_index(drop=True)
