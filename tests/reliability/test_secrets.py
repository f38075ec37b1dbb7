"""An API key never leaves the places meant to hold it: not in logs, artifacts, metadata, HTML
visualizations, exception texts or any file a run leaves behind.

The local batch server requires a sentinel key; the real pipelines reach it with the key from
the environment, then from a ZenML secret, and once with a wrong key so that a provider error
travels through a failed step into ``PipelineRunError``. Then every surface is searched for
either key, raw, base64 (at any alignment), URL-encoded and hex; a finding names its place.
"""

from __future__ import annotations

import base64
import gzip
import io
import logging
import os
import secrets
import sqlite3
import tempfile
import traceback
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml
from openai import OpenAI

from tests.flow import _dataset, _job_config
from tests.server.kit import wait_for
from zenbatch.errors import PipelineRunError
from zenbatch.server import LocalBatchServer

pytestmark = pytest.mark.pipeline

TOKEN = secrets.token_hex(16)
RIGHT = f"sk-zenbatch-SENTINEL-{TOKEN}"
WRONG = f"WRONG-zenbatch-SENTINEL-{secrets.token_hex(16)}"  # no "sk-": no key-shaped pattern hides it
KEY_VAR = f"ZENBATCH_SENTINEL_KEY_{TOKEN[:8].upper()}"
WRONG_VAR = f"ZENBATCH_SENTINEL_WRONG_{TOKEN[:8].upper()}"
SECRET_NAME = f"zenbatch-sentinel-{TOKEN[:8]}"
LOGGERS = ("openai", "httpx", "httpx2", "httpcore", "zenbatch", "steps", "materializers")
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


# the search ------------------------------------------------------------------------------------


def _base64_forms(value: bytes) -> dict[str, bytes]:
    """Base64 of ``value`` as it appears inside a longer encoded text, at each of 3 alignments.

    Only the characters that depend on ``value`` alone are kept, so the form is found whatever
    bytes stood before and after it.
    """
    forms = {}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value)
        core = encoded[(8 * offset + 5) // 6 : 8 * (offset + len(value)) // 6]
        forms[f"base64@{offset}"] = core
        forms[f"urlsafe-base64@{offset}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    return forms


def leak_forms(secret: str) -> dict[str, bytes]:
    """Every form of ``secret`` worth looking for, by name (duplicates dropped)."""
    raw = secret.encode()
    forms = {
        "raw": raw,
        "its random part": secret.rsplit("-", 1)[-1].encode(),
        "url-encoded": quote(secret, safe="").encode(),
        "form-encoded": quote_plus(secret).encode(),
        "hex": raw.hex().encode(),
        **_base64_forms(raw),
    }
    unique: dict[bytes, str] = {}
    for name, form in forms.items():
        unique.setdefault(form, name)
    return {name: form for form, name in unique.items()}


SECRETS = {"the right key": leak_forms(RIGHT), "the wrong key": leak_forms(WRONG)}


@dataclass
class Search:
    """Findings (place: which key, in which form) and how much of each surface was read."""

    findings: list[str] = field(default_factory=list)
    covered: dict[str, int] = field(default_factory=dict)

    def text(self, where: str, data: bytes | str, surface: str) -> None:
        self.covered[surface] = self.covered.get(surface, 0) + 1
        blob = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        for label, forms in SECRETS.items():
            found = [form_name for form_name, form in forms.items() if form in blob]
            if found:
                self.findings.append(f"{where}: {label} ({', '.join(found)})")

    def files(self, root: Path, surface: str, skip: tuple[Path, ...] = ()) -> None:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p not in skip):
            data = path.read_bytes()
            self.text(str(path), data, surface)
            for inner, content in _unpacked(path, data):
                self.text(f"{path} -> {inner}", content, surface)
            if path.suffix == ".html":
                self.covered["html visualizations"] = self.covered.get("html visualizations", 0) + 1
            if "log" in path.name or "logs" in path.parts:
                self.covered["log files"] = self.covered.get("log files", 0) + 1

    def report(self) -> str:
        return "the key leaked:\n  " + "\n  ".join(self.findings)


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _zstd(data: bytes) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


def _unpacked(path: Path, data: bytes) -> Iterator[tuple[str, bytes]]:
    """What a compressed or columnar file holds, where a plain search cannot see it."""
    if data[:2] == b"\x1f\x8b":
        yield "gunzipped", gzip.decompress(data)
    elif data[:4] == ZSTD_MAGIC:  # zenbatch's blob store keeps JSONL files zstd-compressed
        import pyarrow as pa

        with pa.CompressedInputStream(pa.BufferReader(data), "zstd") as stream:
            yield "unzstd", stream.read()
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield member, archive.read(member)
    elif data[:4] == b"PAR1":
        import pyarrow.parquet as pq

        yield "parquet rows", repr(pq.read_table(io.BytesIO(data)).to_pylist()).encode()


def _zenml_db() -> Path:
    from sqlalchemy.engine import make_url
    from zenml.config.global_config import GlobalConfiguration

    url = make_url(GlobalConfiguration().store_configuration.url)
    assert url.get_backend_name() == "sqlite" and url.database, f"the test store is not a SQLite file: {url}"
    return Path(url.database)


def _search_database(search: Search, db: Path) -> tuple[list[str], Search]:
    """Every table but the secrets tables, row by row; the secrets tables in a search of their own."""
    control = Search()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        secret_tables = [t for t in tables if t.split("_")[0] == "secret"]
        for table in tables:
            into = control if table in secret_tables else search
            cursor = conn.execute(f'SELECT rowid, * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns[1:], row[1:], strict=True):
                    if isinstance(value, (str, bytes)):
                        into.text(f"zenml db {table}.{column} rowid {row[0]}", value, "zenml database")
    finally:
        conn.close()
    return secret_tables, control


def _search_metadata(search: Search) -> None:
    """Runs, steps (with exception_info), artifact versions and schedules, as the Client gives them."""
    from zenml.client import Client
    from zenml.utils.pagination_utils import depaginate

    client = Client()
    with warnings.catch_warnings():  # dumping every field touches ZenML's own deprecated ones
        warnings.simplefilter("ignore", DeprecationWarning)
        for run in depaginate(client.list_pipeline_runs, hydrate=True):
            search.text(f"run {run.name}", run.model_dump_json(), "run metadata")
            for step in depaginate(client.list_run_steps, pipeline_run_id=run.id, hydrate=True):
                search.text(f"run {run.name} step {step.name}", step.model_dump_json(), "step metadata")
        for version in depaginate(client.list_artifact_versions, hydrate=True):
            search.text(f"artifact {version.name} v{version.version}", version.model_dump_json(), "artifact metadata")
        for schedule in depaginate(client.list_schedules, hydrate=True):
            search.text(f"schedule {schedule.name}", schedule.model_dump_json(), "schedules")


def _search_output(search: Search, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    out, err = capfd.readouterr()
    search.text("captured stdout", out, "stdout/stderr")
    search.text("captured stderr", err, "stdout/stderr")
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        text = formatter.format(record) + repr(record.args)
        search.text(f"log record of {record.name} ({record.levelname})", text, "logging")


# set-up ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBatchServer]:
    with LocalBatchServer(tmp_path_factory.mktemp("secrets-server"), engine="echo", api_key=RIGHT, workers=2) as server:
        yield server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("secrets-work")


@pytest.fixture
def watched(zenml_store: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Path:
    """The local stack active, temporary files kept in ``workdir`` and debug logging captured."""
    from zenbatch.zenml_ext.stack import ensure_local_stack

    ensure_local_stack()
    (workdir / "tmp").mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(workdir / "tmp"))  # so the scan sees every temporary file
    monkeypatch.delenv("ZENBATCH_API_KEY", raising=False)  # the local kind's default variable: no third route
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return workdir


def _provider(folder: Path, name: str, server: LocalBatchServer, **auth: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"kind": "local", "base_url": server.base_url, **auth}))
    return path


def _submit_and_collect(folder: Path, name: str, prefix: str, provider: Path, server: LocalBatchServer) -> str:
    """Submit a job of its own, wait for its batches on the server, let a loader collect it; its job id."""
    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, job_tag, versions_tagged
    from zenbatch.zenml_ext.runs import run_submit
    from zenbatch.zenml_ext.schedules import run_loader

    frame = _dataset(6, prefix)
    run = run_submit(str(_job_config(folder, name, frame, provider)), provider_config=str(provider))
    metadata = run.steps["submit_batch"].run_metadata
    client = OpenAI(base_url=server.base_url, api_key=RIGHT, max_retries=0, timeout=30)
    for batch_id in metadata["batch_ids"]:
        assert wait_for(client, str(batch_id), timeout=180).status == "completed"
    run_loader(interval_seconds=2, name=f"{name}-loader")
    job_id = str(metadata["job_id"])
    (results,) = versions_tagged(job_tag(job_id), name=RESULTS_ARTIFACT)
    collected = results.load().to_pandas()
    assert collected["custom_id"].tolist() == frame["review_id"].tolist() and set(collected["status"]) == {"succeeded"}
    return job_id


# the tests -------------------------------------------------------------------------------------


def test_the_search_finds_every_form_wherever_it_sits(tmp_path):
    payload = b'{"values": {"api_key": "' + RIGHT.encode() + b'"}}'
    planted = {
        "plain.txt": b"x" + RIGHT.encode(),
        "b64-0.txt": base64.b64encode(payload),
        "b64-1.txt": base64.b64encode(b"a" + payload),
        "b64-2.txt": base64.urlsafe_b64encode(b"ab" + payload),
        "query.txt": f"https://example.invalid/v1?key={quote(RIGHT, safe='')}&x=1".encode(),
        "masked.txt": b"Incorrect API key provided: sk-****" + TOKEN.encode(),
        "zipped.gz": gzip.compress(payload),
        "blob.jsonl.zst": _zstd(payload),
        "clean.txt": b"sk-zenbatch-SENTINEL-" + b"0" * 32,
    }
    for name, data in planted.items():
        (tmp_path / name).write_bytes(data)
    search = Search()

    search.files(tmp_path, "test")

    found = {Path(f.split(":")[0].split(" -> ")[0]).name for f in search.findings}
    assert found == set(planted) - {"clean.txt"}
    assert all("the right key" in f for f in search.findings) and search.covered == {"test": len(planted) + 2}  # and the two unpacked contents


def test_a_wrong_key_fails_the_submit_without_naming_either_key(keyed_server, watched, monkeypatch, capfd, caplog):
    from zenml.client import Client

    from zenbatch.zenml_ext.runs import run_submit

    monkeypatch.setenv(WRONG_VAR, WRONG)
    provider = _provider(watched, "wrong", keyed_server, api_key_env=WRONG_VAR)
    config = _job_config(watched, "secrets-wrong-key", _dataset(6, "w"), provider)
    server_client = OpenAI(base_url=keyed_server.base_url, api_key=RIGHT, max_retries=0)
    before = (len(server_client.files.list().data), len(server_client.batches.list(limit=100).data))

    with pytest.raises(PipelineRunError) as caught:
        run_submit(str(config), provider_config=str(provider))

    text = str(caught.value)
    assert "step submit_batch" in text and "HTTP 401" in text and "check the API key" in text
    run = Client().list_pipeline_runs(pipeline_name="submit_pipeline", sort_by="desc:created", size=1).items[0]
    info = run.steps["submit_batch"].exception_info
    assert info is not None and "HTTP 401" in info.message
    assert (len(server_client.files.list().data), len(server_client.batches.list(limit=100).data)) == before
    search = Search()
    search.text("PipelineRunError with its causes", "".join(traceback.format_exception(caught.value)), "exception texts")
    search.text(f"run {run.name} exception_info", info.model_dump_json(), "exception texts")
    for step in run.steps.values():
        for logs in step.log_collection or []:
            path = Path(logs.uri or "")
            if path.is_dir():
                search.files(path, "step logs")
            elif path.is_file():
                search.text(str(path), path.read_bytes(), "step logs")
    _search_output(search, capfd, caplog)
    assert not search.findings, search.report()
    assert search.covered.get("step logs"), "the failed run's step logs were not found"


def test_keys_from_the_environment_and_from_a_zenml_secret_run_the_jobs_and_leak_nowhere(keyed_server, watched, monkeypatch, capfd, caplog):
    from zenml.client import Client
    from zenml.config.global_config import GlobalConfiguration

    from zenbatch.zenml_ext.runs import run_downstream

    monkeypatch.setenv(KEY_VAR, RIGHT)
    provider = _provider(watched, "env", keyed_server, api_key_env=KEY_VAR)
    env_job = _submit_and_collect(watched, "secrets-from-env", "e", provider, keyed_server)

    monkeypatch.delenv(KEY_VAR)
    Client().create_secret(SECRET_NAME, values={"api_key": RIGHT})
    try:
        provider = _provider(watched, "secret", keyed_server, api_key_secret=f"{SECRET_NAME}.api_key")
        secret_job = _submit_and_collect(watched, "secrets-from-secret", "s", provider, keyed_server)
        assert secret_job != env_job
        labeled = run_downstream("labeling")
        assert labeled.status.is_successful

        search = Search()
        db = _zenml_db()
        stores = Path(GlobalConfiguration().config_directory)
        search.files(stores, "zenml config and local stores", skip=tuple(Path(f"{db}{s}") for s in DB_SUFFIXES))
        artifact_store = Path(Client().active_stack.artifact_store.path)
        if not artifact_store.is_relative_to(stores):
            search.files(artifact_store, "artifact store")
        secret_tables, control = _search_database(search, db)
        _search_metadata(search)
        search.files(keyed_server.settings.data_dir, "server data dir")
        search.files(Path(os.environ["ZENBATCH_HOME"]), "ZENBATCH_HOME")
        search.files(watched, "configs and temporary files")
        _search_output(search, capfd, caplog)
    finally:
        Client().delete_secret(SECRET_NAME)

    assert not search.findings, search.report()
    # The search read what it should have, and can see the key where it legitimately is.
    assert "secret" in secret_tables
    assert any("the right key" in f and "base64" in f for f in control.findings), "the secrets table should hold the key"
    for surface in ("zenml config and local stores", "html visualizations", "log files", "zenml database",
                    "run metadata", "step metadata", "artifact metadata", "schedules", "server data dir",
                    "ZENBATCH_HOME", "configs and temporary files", "logging"):  # fmt: skip
        assert search.covered.get(surface), f"nothing was read from {surface}: {search.covered}"
