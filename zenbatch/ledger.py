"""The request ledger: every request that reached a final answer, keyed by what was asked, so no job pays twice.

A request's key is a hash of what the provider is asked: the line's endpoint and its body (the
model or deployment and every parameter in it), keys sorted, so the same request rendered by any
job, or read from a batch file, has the same key. The custom_id is not part of it.

An answer is final when it succeeded or failed for a reason a new attempt would not change (a
content filter, a context too long). A retryable failure is not final: a later job sends it
again. Each collected job contributes one segment: its final rows' keys, and where their answers
are (job, batch, results part). Where the segments live is the caller's choice (zenbatch's ZenML
steps keep them as artifacts, see ``zenbatch.zenml_ext.ledger``).

Planning a job asks the ledger about every row's key: a key with a final answer is *reused* (its
answer joined into this job's results at no cost); a key in flight in another open job is
*waited for*; only the rest is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from zenbatch.requests import RequestChunk
from zenbatch.results import FAILED, SUCCEEDED

REUSED, WAITING = "reused", "waiting"
RIDERS_FILE, KEYS_FILE = "riders.parquet", "keys.parquet"  # in a job's inputs folder


def request_key(line: bytes) -> str:
    """The key of one request line (its url and body; not its custom_id)."""
    return key_of(orjson.loads(line))


def key_of(record: dict[str, Any]) -> str:
    """The key of a parsed request line."""
    body = orjson.dumps(record.get("body"), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(str(record.get("url", "")).encode() + b"\n" + body, digest_size=16).hexdigest()


def final_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows whose answer no new attempt would change: succeeded, or failed for good."""
    return (frame["status"] == SUCCEEDED) | ((frame["status"] == FAILED) & ~frame["retryable"].astype(bool))


ANSWER_COLUMNS = ["job_id", "batch_id", "part", "custom_id", "status"]  # where a key's final answer is
RIDER_COLUMNS = ["position", "custom_id", "request_key", "source", *ANSWER_COLUMNS[:3], "answer_custom_id", "waiting_for", "line"]


class Ledger(Protocol):
    """What planning and collecting need to know about keys."""

    def answers(self, keys: list[str]) -> pd.DataFrame:
        """The final answers of those ``keys`` that have one, indexed by key (columns ``ANSWER_COLUMNS``)."""
        ...

    def in_flight(self, keys: list[str]) -> dict[str, str]:
        """key -> the id of the open job that sends it, for those ``keys`` some open job sends."""
        ...


class EmptyLedger:
    """No earlier job (reuse off): every key is new."""

    def answers(self, keys: list[str]) -> pd.DataFrame:
        return pd.DataFrame(columns=ANSWER_COLUMNS, index=pd.Index([], name="request_key"))

    def in_flight(self, keys: list[str]) -> dict[str, str]:
        return {}


SEGMENT_SCHEMA = pa.schema([("request_key", pa.binary(16)), ("custom_id", pa.string()), ("status", pa.string()),
                            ("batch_id", pa.string()), ("attempts", pa.int64()), ("cost_usd", pa.float64()),
                            ("part", pa.string())])  # fmt: skip


def segment(parts: Iterable[tuple[str, pd.DataFrame]]) -> Iterator[pa.Table]:
    """A collected job's ledger segment, a part at a time: the final rows it answered itself (not those it reused).

    Each row names its key (16 bytes), custom_id, status, the batch that answered it, the attempts
    it took, what it cost, and the results part that holds it. ``parts`` are (part sha256, part
    rows) of the job's results.
    """
    for sha, frame in parts:
        if "request_key" not in frame.columns:  # a part written before requests had keys
            continue
        own = final_rows(frame) & frame["reused_from"].isna() & frame["request_key"].notna()
        rows = frame.loc[own]
        yield pa.table({
            "request_key": [bytes.fromhex(k) for k in rows["request_key"]], "custom_id": rows["custom_id"].tolist(),
            "status": rows["status"].tolist(), "batch_id": rows["batch_id"].tolist(),
            "attempts": rows["attempts"].astype("int64").tolist() if "attempts" in rows else [None] * len(rows),
            "cost_usd": rows["cost_usd"].astype("float64").tolist() if "cost_usd" in rows else [None] * len(rows),
            "part": [sha] * len(rows),
        }, schema=SEGMENT_SCHEMA)  # fmt: skip


RIDER_SCHEMA = pa.schema([("position", pa.int64()), *((c, pa.string()) for c in RIDER_COLUMNS[1:])])
KEY_SCHEMA = pa.schema([("request_key", pa.binary(16))])  # 16 bytes a key: random hex text would not compress


class Split:
    """Planning with a ledger: rows with a final answer or in flight elsewhere are set aside as riders.

    Wrap the rendered chunks with :meth:`chunks`; what is left is sent. The riders (the rows not
    sent, ``RIDER_COLUMNS``) and the keys of the rows sent are written to ``folder`` a chunk at a
    time (``riders.parquet``, ``keys.parquet``), so a dataset of any size is split in the memory
    of one chunk; ``reused_tokens`` are the prompt and output tokens the reused rows would cost.
    """

    def __init__(self, ledger: Ledger | None, folder: Path):
        self.ledger: Ledger = ledger or EmptyLedger()
        self.riders_path, self.keys_path = folder / RIDERS_FILE, folder / KEYS_FILE
        self.counts = {REUSED: 0, WAITING: 0, "sent": 0}
        self.reused_tokens = [0, 0]
        self._digest = hashlib.blake2b(digest_size=16)  # of every row's custom_id and key: the work, sent or not

    def chunks(self, chunks: Iterable[RequestChunk]) -> Iterator[RequestChunk]:
        self.riders_path.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(self.riders_path, RIDER_SCHEMA) as riders, pq.ParquetWriter(self.keys_path, KEY_SCHEMA) as sent:
            for chunk in chunks:
                yield self._split(chunk, riders, sent)

    def _split(self, chunk: RequestChunk, riders: pq.ParquetWriter, sent: pq.ParquetWriter) -> RequestChunk:
        keys = [request_key(line) for line in chunk.lines]
        for custom_id, key in zip(chunk.custom_ids, keys):
            self._digest.update(f"{custom_id}\t{key}\n".encode())
        answers = self.ledger.answers(keys)
        known = set(answers.index)
        flights = self.ledger.in_flight([k for k in keys if k not in known])
        keep: list[int] = []
        aside: list[int] = []
        for i, key in enumerate(keys):
            (aside if key in known or key in flights else keep).append(i)
        aside_keys = [keys[i] for i in aside]
        reused = [key in known for key in aside_keys]
        found = answers.reindex(aside_keys)  # one lookup for the chunk (NaN for a waiting row)
        columns: dict[str, list[Any]] = {
            "position": [chunk.start + i for i in aside], "custom_id": [chunk.custom_ids[i] for i in aside],
            "request_key": aside_keys, "source": [REUSED if r else WAITING for r in reused],
            **{column: _texts(found[column]) for column in ("job_id", "batch_id", "part")},
            "answer_custom_id": _texts(found["custom_id"]),
            "waiting_for": [None if r else flights[key] for key, r in zip(aside_keys, reused)],
            "line": [chunk.lines[i].decode() for i in aside],  # to send it after all, or to export it for fine-tuning
        }  # fmt: skip
        for i, r in zip(aside, reused):
            if r:
                self.reused_tokens[0] += chunk.prompt_tokens[i] if chunk.prompt_tokens else 0
                self.reused_tokens[1] += chunk.output_tokens[i] if chunk.output_tokens else 0
        riders.write_table(pa.table(columns, schema=RIDER_SCHEMA))
        sent.write_table(pa.table({"request_key": [bytes.fromhex(keys[i]) for i in keep]}, schema=KEY_SCHEMA))
        self.counts[REUSED] += sum(reused)
        self.counts[WAITING] += len(reused) - sum(reused)
        self.counts["sent"] += len(keep)
        return RequestChunk(
            chunk.start, [chunk.custom_ids[i] for i in keep], [chunk.lines[i] for i in keep],
            [chunk.prompt_tokens[i] for i in keep] if chunk.prompt_tokens is not None else None,
            [chunk.output_tokens[i] for i in keep] if chunk.output_tokens is not None else None,
            positions=[chunk.start + i for i in keep],
        )  # fmt: skip

    @property
    def digest(self) -> str:
        """What the job asks for, every row (sent or not): the same dataset and template give the same digest."""
        return self._digest.hexdigest()


def _texts(values: pd.Series) -> list[str | None]:
    """A column's strings, None where it has none (a missing value reads as NaN)."""
    return [v if isinstance(v, str) else None for v in values]
