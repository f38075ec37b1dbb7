"""Bad input is refused before anything is uploaded, with an error that names what, where and what to do.

Each case writes a dataset and a job config (with its provider config in a file of its own) and
runs the real submit path: ``JobConfig.from_yaml`` -> ``prepare_job`` -> ``make_provider`` ->
``submit`` against a local batch server. The case must fail with an error from zenbatch's tree
whose message names the place (file, line, row, column, custom_id) and says what to do, and the
server, asked through the ``openai`` SDK, must hold no file and no batch afterwards.

Two cases also run through the submit pipeline with the ``zenbatch submit`` command: exit code 2,
the failed step and the problem on stderr, nothing uploaded.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
import yaml
from openai import OpenAI

from zenbatch.config import JobConfig
from zenbatch.datasets import read_dataset
from zenbatch.errors import ConfigError, DatasetError, InputValidationError, LimitError, ZenbatchError
from zenbatch.lifecycle import Outcome, prepare_job, run_until_done, submit
from zenbatch.providers.base import RetryPolicy
from zenbatch.providers.factory import make_provider
from zenbatch.server import LocalBatchServer

TEMPLATE: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "system_prompt": "Label the sentiment of the review.",
    "user_template": "Review: {text}",
    "id_column": "id",
    "parameters": {"max_tokens": 5},
}
EMBEDDINGS = {
    "endpoint": "/v1/embeddings", "model": "text-embedding-3-small", "text_column": "text",
    "system_prompt": None, "user_template": None, "parameters": {},
}  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def csv(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def jsonl(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def many_rows(count: int) -> bytes:
    return csv("id,text", *(f"r{i},review number {i}" for i in range(count)))


@dataclass(frozen=True)
class Case:
    """One bad input and what its error must say.

    Attributes:
        id: the test id.
        error: the exact error class expected.
        says: fragments the message must hold: what is wrong, where, and what to do.
        files: files written next to the job config (name -> bytes).
        dataset: the job config's dataset.path; None to give the rows as a DataFrame (``frame``).
        frame: rows given to ``prepare_job`` as a DataFrame, as the submit pipeline does.
        template / job / provider: overrides of the template, the job config and the provider config.
        job_text: the job config's raw text, instead of the YAML built from the overrides.
        problems: for InputValidationError, the (code, row) of every problem.
    """

    id: str
    error: type[ZenbatchError]
    says: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    dataset: str | None = "data.csv"
    frame: Callable[[], pd.DataFrame] | None = None
    template: dict[str, Any] = field(default_factory=dict)
    job: dict[str, Any] = field(default_factory=dict)
    provider: dict[str, Any] = field(default_factory=dict)
    job_text: str | None = None
    problems: frozenset[tuple[str, int | None]] | None = None


def problems(*pairs: tuple[str, int | None]) -> frozenset[tuple[str, int | None]]:
    return frozenset(pairs)


GOOD_CSV = csv("id,text", "r0,great phone", "r1,awful battery")

DATASETS = [
    # -- missing and empty values
    Case("nan-in-templated-column-csv", InputValidationError,
         ("data.csv", "row 1", "column 'text'", "custom_id 'r1'", "missing", "fill it or drop the row", "nothing was written"),
         files={"data.csv": csv("id,text", "r0,great", "r1,", "r2,awful")},
         problems=problems(("missing_value", 1))),
    Case("null-in-templated-column-jsonl", InputValidationError,
         ("data.jsonl", "row 1", "column 'text'", "custom_id 'r1'", "missing", "fill it or drop the row"),
         files={"data.jsonl": jsonl({"id": "r0", "text": "great"}, {"id": "r1", "text": None})}, dataset="data.jsonl",
         problems=problems(("missing_value", 1))),
    Case("nan-in-a-dataframe", InputValidationError,
         ("row 2", "column 'text'", "custom_id 'r2'", "missing", "fill it or drop the row"),
         dataset=None, frame=lambda: pd.DataFrame({"id": ["r0", "r1", "r2"], "text": ["great", "awful", float("nan")]}),
         problems=problems(("missing_value", 2))),
    Case("blank-value", InputValidationError,
         ("data.csv", "row 0", "column 'text'", "custom_id 'r0'", "empty", "fill it or drop the row"),
         files={"data.csv": csv("id,text", 'r0,"   "', "r1,fine")}, problems=problems(("empty_value", 0))),
    # -- nothing to send
    Case("empty-dataset-header-only", InputValidationError, ("data.csv", "no rows", "add rows"),
         files={"data.csv": csv("id,text")}, problems=problems(("empty_dataset", None))),
    Case("empty-dataset-parquet-0-rows", InputValidationError, ("data.parquet", "no rows", "add rows"),
         files={"data.parquet": parquet(pd.DataFrame({"id": pd.Series([], dtype=str), "text": pd.Series([], dtype=str)}))},
         dataset="data.parquet", problems=problems(("empty_dataset", None))),
    Case("empty-file-csv-0-bytes", DatasetError, ("data.csv", "the file is empty", "write a header line"),
         files={"data.csv": b""}),
    Case("empty-file-jsonl-0-bytes", DatasetError, ("data.jsonl", "no rows", "one JSON object per line"),
         files={"data.jsonl": b""}, dataset="data.jsonl"),
    Case("jsonl-of-blank-lines", DatasetError, ("data.jsonl", "no rows", "one JSON object per line"),
         files={"data.jsonl": b"\n  \n\n"}, dataset="data.jsonl"),
    # -- wrong types
    Case("list-where-text-is-needed", InputValidationError,
         ("data.jsonl", "row 1", "column 'text'", "custom_id 'r1'", "a list, not a string", "convert the column to text"),
         files={"data.jsonl": jsonl({"id": "r0", "text": "great"}, {"id": "r1", "text": ["a", "b"]})}, dataset="data.jsonl",
         problems=problems(("not_a_string", 1))),
    Case("dict-where-text-is-needed", InputValidationError,
         ("data.jsonl", "row 0", "column 'text'", "custom_id 'r0'", "a dict, not a string", "convert the column to text"),
         files={"data.jsonl": jsonl({"id": "r0", "text": {"title": "x"}}, {"id": "r1", "text": "fine"})}, dataset="data.jsonl",
         problems=problems(("not_a_string", 0))),
    Case("number-where-embeddings-need-text", InputValidationError,
         ("data.jsonl", "row 1", "column 'text'", "custom_id 'r1'", "a int, not a string", "convert the column to text"),
         files={"data.jsonl": jsonl({"id": "r0", "text": "fine"}, {"id": "r1", "text": 42})}, dataset="data.jsonl",
         template=EMBEDDINGS, problems=problems(("not_a_string", 1))),
    # -- too large for the provider
    Case("huge-row-over-the-file-size-limit", InputValidationError,
         ("data.csv", "row 1", "custom_id 'r1'", "more than a whole batch file may hold (20,000)", "shorten it"),
         files={"data.csv": csv("id,text", "r0,short", "r1," + "x" * 30_000)}, provider={"limits": {"max_bytes": 20_000}},
         problems=problems(("request_too_large", 1))),
    Case("huge-row-over-the-enqueued-token-budget", InputValidationError,
         ("data.csv", "row 0", "custom_id 'r0'", "prompt tokens", "raise limits.max_enqueued_tokens"),
         files={"data.csv": csv("id,text", "r0," + "many words " * 3_000, "r1,short")},
         provider={"limits": {"max_enqueued_tokens": 1_000}}, problems=problems(("request_too_large", 0))),
    Case("60000-rows-for-a-50000-request-limit-with-sharding-off", LimitError,
         ("data.csv", "60,000 requests", "50,000", "sharding is off", "sharding: true"),
         files={"data.csv": many_rows(60_000)}, job={"sharding": False}),
    # -- encodings
    Case("latin-1-csv", DatasetError, ("data.csv, line 3", "not UTF-8", "byte 0xe9", "re-save the file as UTF-8"),
         files={"data.csv": csv("id,text", "r0,fine", "r1,caf\xe9 au lait", encoding="latin-1")}),
    Case("latin-1-jsonl", DatasetError, ("data.jsonl, line 2", "not UTF-8", "re-save the file as UTF-8"),
         files={"data.jsonl": '{"id": "r0", "text": "fine"}\n{"id": "r1", "text": "na\xefve"}\n'.encode("latin-1")},
         dataset="data.jsonl"),
    Case("utf-16-csv", DatasetError, ("data.csv, line 1", "not UTF-8", "re-save the file as UTF-8"),
         files={"data.csv": csv("id,text", "r0,fine", encoding="utf-16")}),
    # -- ids
    Case("duplicate-ids", InputValidationError,
         ("data.csv", "row 2", "column 'id'", "custom_id 'r0'", "duplicate custom_id (first at row 0)", "must be unique"),
         files={"data.csv": csv("id,text", "r0,great", "r1,awful", "r0,meh")}, problems=problems(("duplicate_custom_id", 2))),
    Case("missing-id", InputValidationError, ("data.csv", "row 1", "column 'id'", "the id is empty", "give every row an id"),
         files={"data.csv": csv("id,text", "r0,great", ",awful")}, problems=problems(("missing_id", 1))),
    # -- columns
    Case("templated-column-missing", InputValidationError,
         ("data.csv", "column 'text'", "{text}", "it has: id, body", "rename the dataset's column or fix the template"),
         files={"data.csv": csv("id,body", "r0,great")}, problems=problems(("missing_column", None))),
    Case("id-column-missing", InputValidationError,
         ("data.csv", "column 'id'", "id_column", "it has: key, text", "rename the dataset's column or fix the template"),
         files={"data.csv": csv("key,text", "r0,great")}, problems=problems(("missing_column", None))),
    Case("column-name-with-a-stray-space", InputValidationError,
         ("data.csv", "column 'text'", "closest: ' text'", "rename the dataset's column or fix the template"),
         files={"data.csv": csv("id, text", "r0,great")}, problems=problems(("missing_column", None))),
    Case("two-columns-of-one-name-in-a-dataframe", InputValidationError,
         ("column 'text'", "several columns", "rename or drop all but one"),
         dataset=None, frame=lambda: pd.DataFrame([["r0", "a", "b"]], columns=["id", "text", "text"]),
         problems=problems(("duplicate_column", None))),
    Case("two-id-columns-in-a-dataframe", InputValidationError,
         ("column 'id'", "several columns", "rename or drop all but one"),
         dataset=None, frame=lambda: pd.DataFrame([["r0", "a", "r0"]], columns=["id", "text", "id"]),
         problems=problems(("duplicate_column", None))),
    # -- images
    Case("image-path-does-not-exist", InputValidationError,
         ("data.csv", "row 1", "column 'photo'", "custom_id 'r1'", "does not exist", "fix the path or set image_root"),
         files={"data.csv": csv("id,text,photo", "r0,cute,cat.png", "r1,fluffy,pictures/dog.png"), "cat.png": PNG},
         template={"image_columns": ["photo"]}, problems=problems(("bad_image", 1))),
    Case("image-that-is-not-an-image", InputValidationError,
         ("data.csv", "row 0", "column 'photo'", "custom_id 'r0'", "not a valid image/png", "re-save it"),
         files={"data.csv": csv("id,text,photo", "r0,cute,cat.png"), "cat.png": b"GIF89a but named .png"},
         template={"image_columns": ["photo"]}, problems=problems(("bad_image", 0))),
    # -- broken files
    Case("csv-rows-with-trailing-commas", DatasetError,
         ("data.csv, line 2", "1 more field(s) than the header", "remove trailing commas"),
         files={"data.csv": csv("id,text", "r0,great,", "r1,awful,")}),
    Case("csv-row-with-an-extra-field", DatasetError,
         ("data.csv", "Expected 2 fields in line 3, saw 3", "check that line's quotes and number of fields"),
         files={"data.csv": csv("id,text", "r0,great", "r1,good, cheap")}),
    Case("jsonl-line-not-json", DatasetError, ("data.jsonl, line 2", "not valid JSON"),
         files={"data.jsonl": b'{"id": "r0", "text": "great"}\n{"id": "r1", "text": awful}\n'}, dataset="data.jsonl"),
    Case("jsonl-line-not-an-object", DatasetError, ("data.jsonl, line 1", "must be a JSON object"),
         files={"data.jsonl": b'["r0", "great"]\n'}, dataset="data.jsonl"),
    Case("dataset-file-does-not-exist", DatasetError, ("nowhere.csv", "no such dataset file", "check dataset.path"),
         dataset="nowhere.csv"),
    Case("dataset-of-unknown-format", DatasetError, ("data.txt", "unknown dataset format", "use .csv, .parquet or .jsonl"),
         files={"data.txt": b"id,text\nr0,great\n"}, dataset="data.txt"),
]  # fmt: skip

CONFIGS = [
    Case("job-config-unknown-key", ConfigError,
         ("job.yaml", "shards_off", "unknown key", "remove it or fix its spelling", "sharding"),
         files={"data.csv": GOOD_CSV}, job={"shards_off": True}),
    Case("template-unknown-key", ConfigError,
         ("job.yaml", "template.sytem_prompt", "unknown key", "remove it or fix its spelling", "system_prompt"),
         files={"data.csv": GOOD_CSV}, template={"sytem_prompt": "Be brief."}),
    Case("bad-endpoint", ConfigError, ("job.yaml", "template.endpoint", "'/v1/chat/completions'"),
         files={"data.csv": GOOD_CSV}, template={"endpoint": "/v1/chat/completion"}),
    Case("sharding-not-a-boolean", ConfigError, ("job.yaml", "sharding", "valid boolean"),
         files={"data.csv": GOOD_CSV}, job={"sharding": "sometimes"}),
    Case("job-config-not-yaml", ConfigError, ("job.yaml", "not valid YAML"),
         files={"data.csv": GOOD_CSV}, job_text="name: [unclosed\ntemplate: {model: gpt-4o-mini\n"),
    Case("provider-unknown-limit", ConfigError,
         ("provider.yaml", "limits", "unknown limit max_request", "remove it or fix its spelling", "max_requests"),
         files={"data.csv": GOOD_CSV}, provider={"limits": {"max_request": 10}}),
    Case("provider-limit-zero", ConfigError, ("provider.yaml", "max_requests", "greater than 0", "positive integers"),
         files={"data.csv": GOOD_CSV}, provider={"limits": {"max_requests": 0}}),
    Case("provider-unknown-kind", ConfigError, ("provider.yaml", "kind", "'openai', 'azure' or 'local'"),
         files={"data.csv": GOOD_CSV}, provider={"kind": "anthropic"}),
]  # fmt: skip

TEMPLATES = [
    Case("placeholder-names-no-column", InputValidationError,
         ("data.csv", "column 'txet'", "{txet}", "closest: 'text'", "fix the template"),
         files={"data.csv": GOOD_CSV}, template={"user_template": "Review: {txet}"}, problems=problems(("missing_column", None))),
    Case("placeholder-unclosed", ConfigError, ("job.yaml", "template", "malformed", "write literal braces as {{ and }}"),
         files={"data.csv": GOOD_CSV}, template={"user_template": "Review: {text"}),
    Case("placeholder-positional", ConfigError, ("job.yaml", "template", "{0} must name a column"),
         files={"data.csv": GOOD_CSV}, template={"user_template": "Review: {0}"}),
    Case("template-without-user-template", ConfigError, ("job.yaml", "needs user_template"),
         files={"data.csv": GOOD_CSV}, template={"user_template": None}),
    Case("template-asks-to-stream", ConfigError, ("job.yaml", "cannot stream", "remove it"),
         files={"data.csv": GOOD_CSV}, template={"parameters": {"stream": True}}),
    Case("model-without-a-price", ConfigError, ("no price for model 'my-local-model'", "pricing.models"),
         files={"data.csv": GOOD_CSV}, template={"model": "my-local-model"}),
]  # fmt: skip

_OPEN = {"type": "object", "properties": {"label": {"type": "string"}, "score": {"type": "number"}}}
# Bodies the provider would refuse on every line, hours after upload: refused here, before anything is written.
BODIES = [
    Case("parameter-of-the-wrong-type", ConfigError, ("job.yaml", "parameters.max_tokens", "'ten'", "valid integer"),
         files={"data.csv": GOOD_CSV}, template={"parameters": {"max_tokens": "ten"}}),
    Case("parameter-out-of-range", ConfigError, ("job.yaml", "parameters.temperature", "7", "allowed from 0 to 2"),
         files={"data.csv": GOOD_CSV}, template={"parameters": {"max_tokens": 5, "temperature": 7}}),
    Case("parameter-misspelt", ConfigError,
         ("job.yaml", "parameters.max_tokenz", "not a parameter of /v1/chat/completions", "fix its spelling", "extra_parameters"),
         files={"data.csv": GOOD_CSV}, template={"parameters": {"max_tokenz": 5}}),
    Case("no-completions-asked", ConfigError, ("job.yaml", "parameters.n", "0", "allowed from 1 to 128"),
         files={"data.csv": GOOD_CSV}, template={"parameters": {"max_tokens": 5, "n": 0}}),
    Case("parameter-of-another-endpoint", ConfigError, ("parameters.max_tokens", "/v1/responses", "max_output_tokens"),
         files={"data.csv": GOOD_CSV}, template={"endpoint": "/v1/responses"}),
    Case("schema-type-misspelt", ConfigError, ("json_schema.schema.type", "'objekt'", "not a valid JSON Schema"),
         files={"data.csv": GOOD_CSV}, template={"json_schema": {"name": "a", "schema": {"type": "objekt"}}}),
    Case("strict-schema-with-optional-property", ConfigError,
         ("json_schema.schema", "strict mode needs every property required", "add label, score to required", "strict: false"),
         files={"data.csv": GOOD_CSV}, template={"json_schema": {"name": "a", "schema": {**_OPEN, "additionalProperties": False}}}),
    Case("strict-schema-open-to-more-properties", ConfigError,
         ("json_schema.schema", "strict mode needs additionalProperties: false"),
         files={"data.csv": GOOD_CSV}, template={"json_schema": {"name": "a", "schema": {**_OPEN, "required": ["label", "score"]}}}),
]  # fmt: skip

_AZURE = {"kind": "azure", "azure_endpoint": "http://127.0.0.1:9", "deployment": "batch-deploy", "api_key_env": "ZB_UNUSED"}
# What Azure refuses, refused before upload with the reason and the override.
AZURE = [
    Case("azure-embeddings", ConfigError, ("job.yaml", "azure does not run /v1/embeddings as a batch", "allow_embeddings: true"),
         files={"data.csv": GOOD_CSV}, provider=_AZURE,
         template={"endpoint": "/v1/embeddings", "text_column": "text", "user_template": None, "system_prompt": None,
                   "parameters": {}, "model": "text-embedding-3-small"}),
    Case("azure-images-without-vision", ConfigError, ("job.yaml", "image inputs need a vision-capable model", "'batch-deploy'",
                                                      "vision: true"),
         files={"data.csv": GOOD_CSV}, provider=_AZURE, template={"image_columns": ["text"]}),
]  # fmt: skip

CASES = {case.id: case for case in [*DATASETS, *CONFIGS, *TEMPLATES, *BODIES, *AZURE]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBatchServer]:
    """One local server for the whole corpus: nothing may ever reach it."""
    with LocalBatchServer(tmp_path_factory.mktemp("bad-input-server"), engine="echo") as server:
        yield server


def held(server: LocalBatchServer) -> tuple[int, int]:
    """How many files and batches the server holds, asked through the openai SDK."""
    client = OpenAI(base_url=server.base_url, api_key="unused")
    return len(list(client.files.list())), len(list(client.batches.list()))


def write_case(case: Case, folder: Path, server: LocalBatchServer) -> Path:
    """The case's files, provider config and job config in ``folder``; returns the job config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    (folder / "provider.yaml").write_text(yaml.safe_dump({"kind": "local", "base_url": server.base_url, **case.provider}))
    job: dict[str, Any] = {"name": f"bad-input-{case.id}", "template": {**TEMPLATE, **case.template}, "provider": "provider.yaml"}
    job["template"] = {key: value for key, value in job["template"].items() if value is not None}
    if case.dataset is not None:
        job["dataset"] = {"path": case.dataset}
    path = folder / "job.yaml"
    path.write_text(case.job_text if case.job_text is not None else yaml.safe_dump({**job, **case.job}))
    return path


def submit_job(job_path: Path, workdir: Path, frame: pd.DataFrame | None = None) -> None:
    """The submit path as a script runs it: load the config, prepare, submit."""
    config = JobConfig.from_yaml(job_path)
    job, _ = prepare_job(config, workdir, frame)
    provider = make_provider(config.provider, retry=RetryPolicy(attempts=1))
    submit(job, provider, save=lambda j: j.save(workdir / "job.json"))


def assert_refused(error: BaseException, case: Case) -> None:
    assert type(error) is case.error, f"{type(error).__name__}: {error}"
    assert error.exit_code == 2  # bad input: the CLI exits 2
    message = str(error)
    missing = [fragment for fragment in case.says if fragment not in message]
    assert not missing, f"{missing} not in: {message}"
    assert "Traceback" not in message and "errors.pydantic.dev" not in message
    if case.problems is not None:
        assert isinstance(error, InputValidationError)
        assert {(p.code, p.row) for p in error.problems} == case.problems


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_refused_with_what_where_and_what_to_do_and_nothing_is_uploaded(case, server, tmp_path):
    job_path = write_case(case, tmp_path / "job", server)
    workdir = tmp_path / "work"

    with pytest.raises(ZenbatchError) as info:
        submit_job(job_path, workdir, case.frame() if case.frame else None)

    assert_refused(info.value, case)
    assert not workdir.exists() or not list(workdir.rglob("*.jsonl"))  # no shard file was written
    assert held(server) == (0, 0)


@pytest.mark.parametrize(
    "name, data",
    [
        ("bom.csv", "\ufeffid,text\nr0,great phone\nr1,awful battery\n".encode()),
        ("bom-quoted.csv", '\ufeff"id","text"\n"r0","great phone"\n"r1","awful battery"\n'.encode()),
        ("bom.jsonl", "\ufeff".encode() + jsonl({"id": "r0", "text": "great phone"}, {"id": "r1", "text": "awful battery"})),
    ],
)
def test_a_utf8_bom_is_read_without_the_bom_and_the_job_runs(name, data, tmp_path):
    """A BOM is legitimate (Excel writes one): the first column is ``id``, not ``\\ufeffid``."""
    case = Case("bom", ZenbatchError, (), files={name: data}, dataset=name)
    with LocalBatchServer(tmp_path / "server", engine="echo") as server:  # this job is uploaded: not the corpus' server
        config = JobConfig.from_yaml(write_case(case, tmp_path / "job", server))
        assert list(read_dataset(tmp_path / "job" / name).columns) == ["id", "text"]
        job, _ = prepare_job(config, tmp_path / "work")
        provider = make_provider(config.provider)
        outcome, collection = run_until_done(job, provider, save=lambda j: j.save(tmp_path / "job.json"),
                                             poll_interval=0.05, timeout=60)  # fmt: skip
    assert outcome is Outcome.COMPLETED
    assert collection.results.to_pandas()["custom_id"].tolist() == ["r0", "r1"]
    assert set(collection.results.to_pandas()["status"]) == {"succeeded"}


@pytest.mark.pipeline
@pytest.mark.parametrize(
    "case_id, step, says",
    [
        ("latin-1-csv", "load_dataset", CASES["latin-1-csv"].says),
        # plan_batch gets the rows as an artifact, and still names the job's dataset file.
        ("placeholder-names-no-column", "plan_batch", ("column 'txet'", "{txet}", "closest: 'text'", "fix the template", "data.csv")),
    ],
)
def test_bad_input_fails_the_submit_pipeline_in_its_step_with_exit_2(zenml_store, server, tmp_path, capsys, case_id, step, says):
    from zenbatch.cli import main

    job_path = write_case(CASES[case_id], tmp_path / "job", server)

    code = main(["submit", "--job", str(job_path), "--provider", str(tmp_path / "job" / "provider.yaml")])

    error = capsys.readouterr().err
    assert code == 2, error
    assert "the submit_pipeline pipeline failed" in error and f"step {step}" in error
    missing = [fragment for fragment in says if fragment not in error]
    assert not missing, f"{missing} not in: {error}"
    assert held(server) == (0, 0)
