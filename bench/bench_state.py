"""What a big job costs in storage, transfer and memory: one submit, then one loader pass at a time.

A ``--rows``-row job in shards of ``--shard-rows`` runs on the local batch server (echo engine,
its own process) through the real pipelines on the local stack, each stage its own process as a
user runs them (``zenbatch submit``, then ``zenbatch collect`` every ``--interval`` seconds until
the job is collected). Printed as ``name=value``:

- ``store_bytes`` after every stage, and its ratio to the job's input and output bytes;
- per loader pass: bytes written to the artifact store (its size before and after), bytes read
  from it (the loader's own count), and the bytes of result files that arrived in that pass;
- wall time and peak RSS of every stage's process.

``--pods`` starts every stage with an empty ``ZENBATCH_HOME``, as each step of a remote stack
runs in a fresh pod: then what a pass needs comes from the artifact store, and is counted.

Run: ``.venv/bin/python bench/bench_state.py [--rows 2000000 --shard-rows 50000]``. ZenML runs
on a store of its own in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
ROOT = Path(tempfile.mkdtemp(prefix="zenbatch-state-"))
ENV = {**os.environ, "ZENML_ANALYTICS_OPT_IN": "false", "ZENML_CONFIG_PATH": str(ROOT / "zenml"),
       "ZENML_LOGGING_VERBOSITY": "WARN", "ZENBATCH_HOME": str(ROOT / "home")}  # fmt: skip
os.environ.update(ENV)

from bench._common import report  # noqa: E402 (after ZenML's environment is set)
from bench.scale import _start_server, write_job, write_rows  # noqa: E402 (likewise)

# One stage in a process of its own: prints a JSON line with its figures last.
STAGE = """
import json, resource, sys, time
from zenbatch.zenml_ext.stack import ensure_local_stack
ensure_local_stack()
started = time.perf_counter()
kind = sys.argv[1]
if kind == "submit":
    from zenbatch.zenml_ext.runs import run_submit
    run = run_submit(sys.argv[2], provider_config=sys.argv[3])
    out = {"job_id": str(run.steps["submit_batch"].run_metadata["job_id"])}
else:
    from zenbatch.zenml_ext.runs import run_loader_once
    out = {"report": run_loader_once().model_dump(mode="json")}
out["seconds"] = time.perf_counter() - started
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("STAGE " + json.dumps(out))
"""


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def stage(*args: str, fresh_home: bool = False) -> dict:
    """One stage in its own process; ``fresh_home`` gives it an empty ZENBATCH_HOME, as a pod has."""
    script = ROOT / "stage.py"
    script.write_text(STAGE)
    env = {**ENV, "ZENBATCH_HOME": tempfile.mkdtemp(prefix="pod-home-", dir=ROOT)} if fresh_home else ENV
    done = subprocess.run([sys.executable, str(script), *args], env=env, cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("STAGE ")]
    if done.returncode or not lines:
        raise RuntimeError(f"stage {args[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("STAGE "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--shard-rows", type=int, default=50_000)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between loader passes")
    parser.add_argument("--line-delay-ms", type=float, default=0.0, help="the server's pause before each line, to spread the shards' ends")
    parser.add_argument("--pods", action="store_true", help="every stage starts with an empty ZENBATCH_HOME, as in a pod")
    args = parser.parse_args()
    from openai import OpenAI
    from zenml.client import Client

    from zenbatch.zenml_ext.stack import ensure_local_stack

    work = ROOT / "work"
    work.mkdir(parents=True)
    # The provider keeps the job's files, so their sizes can be read at the end; the artifact store,
    # what this measures, holds the same whether the provider deletes them or not.
    port = write_job(work, f"state-{args.rows}", args.shard_rows, files={"delete_inputs": False, "delete_outputs": False})
    report("dataset_bytes", write_rows(work / "rows.parquet", args.rows))
    ensure_local_stack()
    store = Path(Client().active_stack.artifact_store.path)
    server = _start_server(work, port, args.shard_rows, "--line-delay-ms", str(args.line_delay_ms))
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=2)
    arrived: set[str] = set()
    try:
        submitted = stage("submit", str(work / "job.yaml"), str(work / "provider.yaml"), fresh_home=args.pods)
        job_id = submitted["job_id"]
        report("submit_seconds", submitted["seconds"])
        report("submit_peak_rss_mb", submitted["peak_rss_mb"])
        report("store_bytes_after_submit", folder_bytes(store))
        passes = 0
        while True:
            time.sleep(args.interval)
            before = folder_bytes(store)
            figures = stage("collect", fresh_home=args.pods)
            passes += 1
            progress = next((j for j in figures["report"]["jobs"] if j["job_id"] == job_id), {})
            finished = {f for b in client.batches.list(limit=100).data if b.status == "completed"
                        for f in (b.output_file_id, b.error_file_id) if f}  # fmt: skip
            new, arrived = finished - arrived, arrived | finished
            pass_name = f"pass_{passes:02d}"
            report(f"{pass_name}_seconds", figures["seconds"])
            report(f"{pass_name}_peak_rss_mb", figures["peak_rss_mb"])
            report(f"{pass_name}_arrived_bytes", progress.get("downloaded_bytes", sum(client.files.retrieve(f).bytes for f in new)))
            report(f"{pass_name}_store_written_bytes", folder_bytes(store) - before)
            report(f"{pass_name}_store_read_bytes", progress.get("store_bytes_read", -1))
            if job_id in figures["report"]["collected"]:
                break
        batches = client.batches.list(limit=100).data
        inputs = sum(client.files.retrieve(b.input_file_id).bytes for b in batches)
        outputs = sum(client.files.retrieve(f).bytes for b in batches for f in (b.output_file_id, b.error_file_id) if f)
    finally:
        server.terminate()
        server.wait(timeout=60)
    total = folder_bytes(store)
    for name, size in artifact_bytes(store).items():
        report(f"store_bytes_{name}", size)
    report("loader_passes", passes)
    report("input_bytes", inputs)
    report("output_bytes", outputs)
    report("store_bytes", total)
    report("store_ratio", total / (inputs + outputs))
    report("store_target_met", str(total <= 1.3 * (inputs + outputs) + 5e6).lower())
    return 0


def artifact_bytes(store: Path) -> dict[str, int]:
    """The artifact store's bytes by artifact name (every version), and what lies outside any artifact."""
    from zenml.client import Client

    sizes: dict[str, int] = {}
    inside = 0
    for version in Client().list_artifact_versions(size=1000).items:
        size = folder_bytes(Path(version.uri)) if Path(version.uri).is_dir() else Path(version.uri).stat().st_size
        sizes[version.artifact.name] = sizes.get(version.artifact.name, 0) + size
        inside += size
    sizes["outside_artifacts"] = folder_bytes(store) - inside
    return sizes


if __name__ == "__main__":
    sys.exit(main())
