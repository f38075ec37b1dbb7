"""The main job on the embedded default: a real local model, the local stack, the whole flow.

Starts the local batch server (unless one already answers at the provider's URL), submits the
sample job, lets the scheduled loader run until it pauses itself, then labels, evaluates and
exports fine-tuning data. Running it again finds the job collected and submits nothing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from pydantic import BaseModel, Field

from zenbatch.errors import ZenbatchError
from zenbatch.jobs import BatchJob
from zenbatch.pricing import PriceTable
from zenbatch.progress import Progress, silent
from zenbatch.zenml_ext.overview import batch_ids_of, live_progress
from zenbatch.zenml_ext.providers import provider_for
from zenbatch.zenml_ext.run_configs import submit_job
from zenbatch.zenml_ext.runs import run_downstream, run_submit
from zenbatch.zenml_ext.schedules import run_loader


class DemoSummary(BaseModel):
    """What the demo did and where to look."""

    job: dict[str, Any]
    already_collected: bool
    batches: list[str]
    rows: dict[str, int]
    tokens: dict[str, int]
    cost: dict[str, float]
    evaluation: dict[str, Any]
    artifacts: dict[str, str] = Field(default_factory=dict)
    loader_schedule: str | None = None
    runs: dict[str, str] = Field(default_factory=dict)


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url.rstrip('/')}/batches", params={"limit": 1}, timeout=2).status_code in (200, 401)
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def local_server(base_url: str, engine: str, data_dir: Path) -> Iterator[str]:
    """The local batch server at ``base_url`` for the duration: the one running there, or a new one."""
    if _answers(base_url):
        yield "already running"
        return
    from zenbatch.server import LocalBatchServer

    address = urlparse(base_url)
    server = LocalBatchServer(data_dir, engine=engine, host=address.hostname or "127.0.0.1", port=address.port or 8000)
    server.start()
    try:
        yield f"started ({engine} engine, data in {data_dir})"
    finally:
        server.stop()


@contextlib.contextmanager
def watching(job: BatchJob, progress: Progress, every: float = 2.0) -> Iterator[None]:
    """Reports the job's answered requests to ``progress`` from a thread, while the body runs.

    The thread only asks the provider (read only); ZenML is left to the loader.
    """
    provider = provider_for(job)
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(every):
            try:
                state = live_progress(job, provider)
            except ZenbatchError:
                continue  # a hiccup of the provider: the loader deals with it, the bar waits
            progress("answering requests", state.completed + state.failed, state.total)

    thread = threading.Thread(target=report, name="zenbatch-demo-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_demo(
    job_config: str | Path | None = None,
    provider_config: str | Path | None = None,
    engine: str = "llama-cpp",
    say: Any = print,
    progress: Progress = silent,
) -> DemoSummary:
    """Run the whole flow on the local scheduling stack.

    Args:
        job_config: the job, a file or a shipped job's name (default: the sample review classification).
        provider_config: the provider, a file or openai, azure, local (default: the job's own; the
            sample job's is the local server, started here when not running).
        engine: the local server's engine when it is started here.
        say: hears a line per stage.
        progress: hears the requests answered while the loader waits (see ``zenbatch.progress``).
    """
    from zenbatch.home import local_home
    from zenbatch.zenml_ext.stack import ensure_local_stack

    config = submit_job(job_config, provider_config)
    say(f"ZenML stack: {ensure_local_stack()} (local scheduling orchestrator)")
    local = config.provider.kind == "local"
    server = local_server(config.provider.base_url or "", engine, local_home() / "server") if local else contextlib.nullcontext("")
    with server as state:
        where = config.provider.base_url or config.provider.azure_endpoint or "api.openai.com"
        say(f"batch provider: {config.provider.kind} at {where} {state}".rstrip())
        say("submit pipeline: validate, shard, price (budget), upload, create ...")
        submitted = run_submit(config)
        job_version = submitted.steps["submit_batch"].outputs["batch_job"][0]
        already = bool(submitted.steps["submit_batch"].run_metadata.get("already_collected"))
        schedule = None
        if already:
            say("this job was submitted and collected before: nothing submitted again")
        else:
            say("scheduled loader: polls until every row is final, then pauses its own schedule ...")
            with watching(job_version.load(), progress):
                schedule = run_loader()
        runs = {"submit": str(submitted.id)}
        artifacts: dict[str, str] = {}
        for kind in ("labeling", "evaluation", "finetune"):
            say(f"{kind} pipeline ...")
            run = run_downstream(kind)
            runs[kind] = str(run.id)
            for step_run in run.steps.values():
                for name, outputs in step_run.outputs.items():
                    artifacts[name] = outputs[0].uri
    return _summary(job_version, already, schedule, artifacts, runs)


def _summary(job_version: Any, already: bool, schedule: str | None, artifacts: dict[str, str], runs: dict[str, str]) -> DemoSummary:
    from zenml.client import Client

    from zenbatch.zenml_ext.registry import RESULTS_ARTIFACT, job_id_of, newest_of_job

    job_id = job_id_of(job_version)
    results = newest_of_job(RESULTS_ARTIFACT, job_id)
    meta: dict[str, Any] = dict(results.run_metadata) if results is not None else {}
    job_meta: dict[str, Any] = dict(job_version.run_metadata)
    evaluation = Client().get_artifact_version("evaluation_report").load().model_dump()
    artifacts.setdefault("batch_results", results.uri if results is not None else "")
    artifacts.setdefault("batch_job", job_version.uri)
    estimate_batch = float(job_meta.get("estimated_batch_cost", 0.0))
    estimate_realtime = float(job_meta.get("estimated_realtime_cost", 0.0))
    actual = float(meta.get("cost_usd", 0.0))
    realtime = actual / PriceTable.default().batch_discount  # the same tokens at the realtime price
    return DemoSummary(
        job={"name": job_meta.get("job_name"), "id": job_id, "provider": job_meta.get("provider"), "model": job_meta.get("model")},
        already_collected=already,
        batches=batch_ids_of(job_meta),
        rows={k: int(meta.get(k, 0)) for k in ("rows", "succeeded", "failed", "missing")},
        tokens={k: int(meta.get(k, 0)) for k in ("prompt_tokens", "completion_tokens")},
        cost={"batch": actual, "realtime": realtime, "saved": realtime - actual,
              "estimated_batch": estimate_batch, "estimated_realtime": estimate_realtime},
        evaluation={k: evaluation[k] for k in ("accuracy", "coverage", "macro_f1", "evaluated")},
        artifacts=artifacts, loader_schedule=schedule, runs=runs,
    )  # fmt: skip
