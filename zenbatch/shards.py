"""Shard planning: split request lines into batch files under the provider's limits.

One streaming pass: a shard is closed when the next line would pass its request, byte,
embedding-input or enqueued-token limit. The split is deterministic (same lines, same shards,
same bytes, same sha256). Files are written to a temporary folder and moved into place only
when every line passed, so a failed plan leaves nothing behind; at most one chunk of lines is
in memory at a time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel

from zenbatch.errors import InputValidationError, LimitError, Problem
from zenbatch.providers.profile import ProviderLimits
from zenbatch.requests import RequestChunk

SHARD_NAME = "shard-{index:04d}.jsonl"


class Shard(BaseModel):
    """One planned batch input file.

    Attributes:
        index: 0-based position in the plan.
        requests: request lines in the file.
        bytes: the file's size.
        sha256: hex digest of the file's bytes (the idempotency key at submission).
        prompt_tokens: counted prompt tokens, when counted.
        output_tokens: output tokens to expect (from max_tokens or a configured expectation).
        embedding_inputs: embedding inputs, for /v1/embeddings.
        first_row: position of the shard's first row in the dataset (or line - 1 in a file).
        first_custom_id: the custom_id of the first line.
        last_custom_id: the custom_id of the last line.
        path: where the file was written, when it was.
    """

    index: int
    requests: int = 0
    bytes: int = 0
    sha256: str = ""
    prompt_tokens: int = 0
    output_tokens: int = 0
    embedding_inputs: int = 0
    first_row: int = 0
    first_custom_id: str = ""
    last_custom_id: str = ""
    path: str | None = None


class ShardPlan(BaseModel):
    """The shards of one dataset and their totals."""

    shards: list[Shard]
    limits: ProviderLimits
    tokens_counted: bool = False

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.shards)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.shards)

    @property
    def prompt_tokens(self) -> int:
        return sum(s.prompt_tokens for s in self.shards)

    @property
    def output_tokens(self) -> int:
        return sum(s.output_tokens for s in self.shards)


class _Writer:
    """Accumulates the current shard and flushes it to a file (or only hashes it)."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.shards: list[Shard] = []
        self.current: Shard | None = None
        self.pending: list[bytes] = []
        self.digest = hashlib.sha256()
        self.handle: BinaryIO | None = None

    def open(self, row: int, custom_id: str) -> Shard:
        self.current = Shard(index=len(self.shards), first_row=row, first_custom_id=custom_id)
        self.digest = hashlib.sha256()
        if self.folder is not None:
            path = self.folder / SHARD_NAME.format(index=self.current.index)
            self.current.path = str(path)
            self.handle = path.open("wb")
        return self.current

    def flush(self) -> None:
        if not self.pending:
            return
        data = b"".join(self.pending)
        self.pending.clear()
        self.digest.update(data)
        if self.handle is not None:
            self.handle.write(data)

    def finish(self, requests: int, size: int, tokens: int, outputs: int, embeddings: bool, last_id: str) -> None:
        """Record the current shard's totals and close its file."""
        shard = self.current
        assert shard is not None
        shard.requests, shard.bytes, shard.prompt_tokens, shard.output_tokens = requests, size, tokens, outputs
        shard.embedding_inputs = requests if embeddings else 0
        shard.last_custom_id = last_id
        self.close()

    def close(self) -> None:
        if self.current is None:
            return
        self.flush()
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        self.current.sha256 = self.digest.hexdigest()
        self.shards.append(self.current)
        self.current = None


def plan_shards(
    chunks: Iterable[RequestChunk],
    limits: ProviderLimits,
    *,
    out_dir: str | Path | None = None,
    sharding: bool = True,
    embeddings: bool = False,
    source: str | None = None,
    allow_empty: bool = False,
) -> ShardPlan:
    """Split rendered lines into shards; write them to ``out_dir`` when given.

    Args:
        chunks: rendered lines, e.g. ``RequestSet.iter_chunks(counter=...)``.
        limits: the provider's per-file limits.
        out_dir: where shard files go; None plans and hashes without writing.
        sharding: when False, a dataset that needs more than one file is refused.
        embeddings: count one embedding input per line against ``max_embedding_inputs``.
        source: named in errors.
        allow_empty: no request at all is a plan of no shard (every row answered before), not an error.

    Raises:
        InputValidationError: a request is larger than a whole file or token budget allows.
        LimitError: sharding is off and the requests do not fit one file.
    """
    staging = None
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".zenbatch-", dir=out_dir.parent))
    writer = _Writer(staging)
    problems: list[Problem] = []
    counted = False
    max_inputs = (limits.max_embedding_inputs if embeddings else None) or 0
    max_requests, max_bytes, max_tokens = limits.max_requests, limits.max_bytes, limits.max_enqueued_tokens or 0
    last_id = ""
    # The current shard's totals live in locals; lines are taken a run at a time (found with
    # cumulative sums and bisect), so the Python-level loop runs per shard, not per line.
    n = size_total = tokens_total = outputs_total = 0
    open_shard = False
    try:
        for chunk in chunks:
            lines, ids = chunk.lines, chunk.custom_ids
            tokens, outputs = chunk.prompt_tokens, chunk.output_tokens
            counted = counted or tokens is not None
            if not lines:
                continue
            sizes = list(map(len, lines))
            if max(sizes) > max_bytes or (max_tokens and tokens and max(tokens) > max_tokens):
                for i, (size, custom_id) in enumerate(zip(sizes, ids)):
                    cost = tokens[i] if tokens else 0
                    if size > max_bytes or (max_tokens and cost > max_tokens):
                        problems.append(_too_large(chunk.position(i), custom_id, size, cost, limits))
            if problems:
                continue  # keep scanning to report every problem; write nothing more
            cum_sizes = list(accumulate(sizes))
            cum_tokens = list(accumulate(tokens)) if tokens else None
            i, count = 0, len(lines)
            while i < count:
                if not open_shard:
                    writer.open(chunk.position(i), ids[i])
                    n = size_total = tokens_total = outputs_total = 0
                    open_shard = True
                base_size = cum_sizes[i - 1] if i else 0
                stop = min(count, i + max_requests - n, i + max_inputs - n if max_inputs else count)
                stop = min(stop, bisect_right(cum_sizes, base_size + max_bytes - size_total, i, count))
                if max_tokens and cum_tokens is not None:
                    base_tokens = cum_tokens[i - 1] if i else 0
                    stop = min(stop, bisect_right(cum_tokens, base_tokens + max_tokens - tokens_total, i, count))
                if stop <= i:  # the shard is full
                    if not sharding:
                        raise LimitError(_one_file_message(limits, source))
                    writer.finish(n, size_total, tokens_total, outputs_total, embeddings, ids[i - 1] if i else last_id)
                    open_shard = False
                    continue
                writer.pending.extend(lines[i:stop])
                n += stop - i
                size_total += cum_sizes[stop - 1] - base_size
                if cum_tokens is not None:
                    tokens_total += cum_tokens[stop - 1] - (cum_tokens[i - 1] if i else 0)
                if outputs is not None:
                    outputs_total += sum(outputs[i:stop])
                last_id = ids[stop - 1]
                i = stop
            writer.flush()
        if open_shard:
            writer.finish(n, size_total, tokens_total, outputs_total, embeddings, last_id)
        if problems:
            raise InputValidationError(problems, source)
        if not writer.shards and not allow_empty:
            raise InputValidationError([Problem("there are no requests", "empty_file")], source)
        if staging is not None and out_dir is not None:
            _publish(writer.shards, staging, out_dir)
    finally:
        if writer.handle is not None:
            writer.handle.close()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return ShardPlan(shards=writer.shards, limits=limits, tokens_counted=counted)


def _publish(shards: list[Shard], staging: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("shard-*.jsonl"):
        old.unlink()
    for shard in shards:
        target = out_dir / Path(shard.path or "").name
        os.replace(shard.path or "", target)
        shard.path = str(target)


def _too_large(row: int, custom_id: str, size: int, tokens: int, limits: ProviderLimits) -> Problem:
    if size > limits.max_bytes:
        message = f"the request is {size:,} bytes, more than a whole batch file may hold ({limits.max_bytes:,}); shorten it"
    else:
        message = (
            f"the request has {tokens:,} prompt tokens, more than the enqueued-token budget per shard "
            f"({limits.max_enqueued_tokens:,}); shorten it or raise limits.max_enqueued_tokens"
        )
    return Problem(message, "request_too_large", row=row, custom_id=custom_id)


def _one_file_message(limits: ProviderLimits, source: str | None) -> str:
    return (
        f"{source or 'the requests'} do not fit one batch file (limits: {limits.max_requests:,} requests, "
        f"{limits.max_bytes:,} bytes"
        + (f", {limits.max_enqueued_tokens:,} enqueued tokens" if limits.max_enqueued_tokens else "")
        + ") and sharding is off; set `sharding: true` in the job config, or split the dataset"
    )


def iter_shard_lines(path: str | Path) -> Iterator[bytes]:
    """The lines of a written shard file, streamed."""
    with Path(path).open("rb") as handle:
        yield from handle
