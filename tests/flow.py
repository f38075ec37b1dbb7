"""The shared end-to-end flow: two jobs submitted, collected by one self-pausing scheduled
loader, then labeled, evaluated and exported for fine-tuning, all through real ZenML runs on the
session's isolated store and the local batch server.

One session-scoped flow feeds the pipeline, CLI and dashboard tests (ZenML runs cost seconds
each). The server runs the echo engine, so each answer is the row's ``answer`` column: a JSON
object the template's schema describes, which makes labels and metrics predictable.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import orjson
import pandas as pd
import pytest
import yaml

from zenbatch.server import LocalBatchServer

LABELS = ["positive", "negative", "neutral"]
LOADER_INTERVAL = 3


def _dataset(rows: int, prefix: str) -> pd.DataFrame:
    truth = [LABELS[i % 3] for i in range(rows)]
    answers = list(truth)
    answers[1] = "negative" if truth[1] != "negative" else "positive"  # one wrong answer
    frame = pd.DataFrame({
        "review_id": [f"{prefix}{i:03d}" for i in range(rows)],
        "answer": [orjson.dumps({"sentiment": a}).decode() for a in answers],
        "label": truth,
    })  # fmt: skip
    frame.loc[2, "answer"] = '{"sentiment": "superb"}'  # not a known label: flagged invalid
    return frame


def _job_config(folder: Path, name: str, frame: pd.DataFrame, provider: Path, *, as_artifact: bool = False) -> Path:
    if as_artifact:  # a DataFrame artifact made by another pipeline, the submit pipeline's input
        from zenml import save_artifact

        save_artifact(frame, name=f"{name}_rows")
        dataset = {"artifact": f"{name}_rows"}
    else:
        frame.to_csv(folder / f"{name}.csv", index=False)
        dataset = {"path": f"{name}.csv"}
    config = {
        "name": name,
        "dataset": dataset,
        "template": {
            "endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "id_column": "review_id",
            "system_prompt": f"Answer with the sentiment ({name}).", "user_template": "{answer}",  # two jobs, two requests
            "parameters": {"max_tokens": 20, "temperature": 0},
            "json_schema": {"name": "sentiment", "strict": True, "schema": {
                "type": "object", "properties": {"sentiment": {"type": "string"}},
                "required": ["sentiment"], "additionalProperties": False}},
        },
        "provider": str(provider),
        "budget_usd": 1.0,
    }  # fmt: skip
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def flow(zenml_store: Path, tmp_path_factory: pytest.TempPathFactory):
    from zenml.client import Client

    from zenbatch.zenml_ext.runs import run_downstream, run_submit
    from zenbatch.zenml_ext.schedules import run_loader
    from zenbatch.zenml_ext.stack import ensure_local_stack

    folder = tmp_path_factory.mktemp("flow")
    # Slow lines keep the batches running while the second job is submitted and the loader starts.
    server = LocalBatchServer(folder / "server", engine="echo", workers=2, line_delay_ms=700)
    server.start()
    try:
        ensure_local_stack()
        provider = folder / "local.yaml"
        provider.write_text(yaml.safe_dump({"kind": "local", "base_url": server.base_url}))
        frames = {"alpha": _dataset(30, "a"), "beta": _dataset(12, "b")}
        configs = {name: _job_config(folder, name, frame, provider, as_artifact=name == "beta") for name, frame in frames.items()}
        submits = {name: run_submit(str(config), provider_config=str(provider)) for name, config in configs.items()}
        job_ids = {name: str(run.steps["submit_batch"].run_metadata["job_id"]) for name, run in submits.items()}

        started = time.monotonic()
        schedule_name = run_loader(interval_seconds=LOADER_INTERVAL, name="test-loader")
        loader_seconds = time.monotonic() - started
        schedule = Client().get_schedule(schedule_name)
        loader_runs = Client().list_pipeline_runs(schedule_id=schedule.id, sort_by="asc:created", size=50).items

        labeling = run_downstream("labeling")
        evaluation = run_downstream("evaluation")
        finetune = run_downstream("finetune")
        yield SimpleNamespace(
            server=server, provider=provider, frames=frames, configs=configs, submits=submits, job_ids=job_ids,
            schedule=schedule, loader_runs=loader_runs,
            loader_seconds=loader_seconds,
            labeling=labeling, evaluation=evaluation, finetune=finetune,
        )  # fmt: skip
    finally:
        server.stop()


def server_batches(server: LocalBatchServer):
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key="unused")
    return client.batches.list(limit=100)


def output(run, step: str, name: str):
    return run.steps[step].outputs[name][0].load()
