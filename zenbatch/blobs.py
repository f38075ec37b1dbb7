"""Content-addressed files: every shard input, result file and results part stored once.

A blob is kept under its sha256 (of its bytes) in any store that
offers ``open``, ``exists``, ``makedirs`` and ``rename`` on paths (a local folder, or ZenML's
artifact store through ``zenml.io.fileio``). JSONL files are zstd-compressed on the way in
(request and result lines compress well); Parquet parts are compressed already and kept as
they are, so pyarrow can read them in place. Saving a file that is there already costs one
``exists``; a job state names its files by digest and never copies them. Bytes moved to and from
the store are counted, so a caller can say what one pass cost.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
from pydantic import BaseModel

from zenbatch.errors import JobStateError

CODEC = "zstd"
CHUNK = 1 << 20
SUFFIXES = {"jsonl": ".jsonl.zst", "parquet": ".parquet"}  # kind -> suffix; only JSONL is compressed


class Files(Protocol):
    """The file operations a blob store needs (``zenml.io.fileio`` has them all)."""

    def open(self, path: str, mode: str = "r") -> Any: ...
    def exists(self, path: str) -> bool: ...
    def makedirs(self, path: str) -> None: ...
    def rename(self, src: str, dst: str, overwrite: bool = False) -> None: ...


class LocalFiles:
    """:class:`Files` on this machine's file system."""

    @staticmethod
    def open(path: str, mode: str = "r") -> IO[Any]:
        return open(path, mode)

    @staticmethod
    def exists(path: str) -> bool:
        return os.path.exists(path)

    @staticmethod
    def makedirs(path: str) -> None:
        os.makedirs(path, exist_ok=True)

    @staticmethod
    def rename(src: str, dst: str, overwrite: bool = False) -> None:
        os.replace(src, dst)


class Traffic(BaseModel):
    """Compressed bytes read from and written to the store."""

    read: int = 0
    written: int = 0


class Blobs:
    """Files kept under ``root`` by their sha256."""

    def __init__(self, root: str, files: Files | None = None):
        self.root = root.rstrip("/")
        self.files: Files = files or LocalFiles()
        self.traffic = Traffic()
        self._known: set[str] = set()

    def __deepcopy__(self, memo: dict[int, Any]) -> Blobs:
        return self  # a handle on a store: a copied job keeps the same store

    def path(self, digest: str, kind: str = "jsonl") -> str:
        return f"{self.root}/{digest[:2]}/{digest}{SUFFIXES[kind]}"

    def has(self, digest: str, kind: str = "jsonl") -> bool:
        path = self.path(digest, kind)
        if path in self._known:
            return True
        if self.files.exists(path):
            self._known.add(path)
            return True
        return False

    def put(self, source: str | Path, digest: str | None = None, kind: str = "jsonl") -> str:
        """Store a local file (once) and return its digest; ``digest`` is trusted when given."""
        digest = digest or file_digest(source)
        if self.has(digest, kind):
            return digest
        target = self.path(digest, kind)
        self.files.makedirs(target.rsplit("/", 1)[0])
        partial = f"{target}.{uuid.uuid4().hex[:8]}.partial"
        with self.files.open(partial, "wb") as sink, open(source, "rb") as handle:
            counted = CountedFile(sink)
            if kind == "jsonl":
                with pa.CompressedOutputStream(pa.PythonFile(counted, mode="w"), CODEC) as out:
                    shutil.copyfileobj(handle, out, CHUNK)
            else:
                shutil.copyfileobj(handle, counted, CHUNK)
        self.files.rename(partial, target, True)
        self.traffic.written += counted.bytes
        self._known.add(target)
        return digest

    def name(self, name: str, digest: str) -> None:
        """Remember ``name`` (a provider's file id) for a stored blob, so a crashed step's successor finds it."""
        path = self._name_path(name)
        self.files.makedirs(path.rsplit("/", 1)[0])
        with self.files.open(path, "wb") as handle:
            handle.write(digest.encode())

    def named(self, name: str) -> str | None:
        """The digest stored under ``name``, when its blob is there."""
        path = self._name_path(name)
        if not self.files.exists(path):
            return None
        with self.files.open(path, "rb") as handle:
            digest = handle.read().decode().strip()
        return digest if self.has(digest) else None

    def forget(self, name: str) -> None:
        """Drop ``name`` (a stored file that proved incomplete is downloaded again)."""
        path = self._name_path(name)
        if self.files.exists(path):
            with self.files.open(path, "wb") as handle:
                handle.write(b"")

    def _name_path(self, name: str) -> str:
        return f"{self.root}/names/{''.join(c if c.isalnum() or c in '-_' else '_' for c in name)}"

    def open(self, digest: str, kind: str = "parquet") -> Any:
        """A stored Parquet part, opened for reading (its bytes counted as read)."""
        return CountedFile(self.files.open(self.path(digest, kind), "rb"), self.traffic)

    def get(self, digest: str, target: str | Path, kind: str = "jsonl") -> Path:
        """A local copy of a blob at ``target``, checked against its digest."""
        target = Path(target)
        if not self.has(digest, kind):
            raise JobStateError(
                f"the stored file {digest[:12]}… is not in {self.root}; the artifact store lost it. Submit the job "
                "again (zenbatch submit) to store its inputs anew; batches already created are found and reused"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
        sha = hashlib.sha256()
        with self.files.open(self.path(digest, kind), "rb") as source, partial.open("wb") as out:
            counted = CountedFile(source)
            stream = pa.CompressedInputStream(pa.PythonFile(counted, mode="r"), CODEC) if kind == "jsonl" else counted
            while chunk := stream.read(CHUNK):
                sha.update(chunk)
                out.write(chunk)
        self.traffic.read += counted.bytes
        if sha.hexdigest() != digest:
            partial.unlink()
            raise JobStateError(f"the stored file {digest[:12]}… in {self.root} is corrupt (its digest differs); submit the job again")
        os.replace(partial, target)
        return target

    def fetch(self, digest: str, target: str | Path) -> Path:
        """``target``, fetched only when the local copy is missing or is not this blob."""
        target = Path(target)
        if target.exists() and file_digest(target) == digest:
            return target
        return self.get(digest, target)


class CountedFile:
    """A file object that counts the bytes passing through it (into ``traffic.read`` too, when given)."""

    def __init__(self, handle: Any, traffic: Traffic | None = None):
        self.handle, self.bytes, self.traffic = handle, 0, traffic

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        return int(self.handle.write(data))

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.handle.read(size)
        self.bytes += len(data)
        if self.traffic is not None:
            self.traffic.read += len(data)
        return data

    def __enter__(self) -> CountedFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.handle.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def file_digest(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
