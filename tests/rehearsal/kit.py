"""The rehearsal stack: what a remote stack has, on this machine.

- ZenML's server as its own process (no-auth local mode); every client, and every step, reaches
  it only over REST through ``ZENML_STORE_URL``.
- moto's S3 server as the artifact store (ZenML's ``s3`` flavor with ``client_kwargs.endpoint_url``).
- the ``zenbatch_rehearsal`` orchestrator: each step its own process, with an empty working
  directory, a fresh home and only a pod's environment.
- the code: zenbatch's wheel in a fresh venv (``wheel_venv``), for the client and for the steps,
  as an image built from the pipelines' Docker settings would hold it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import psutil
import yaml

from tests.helpers import free_port
from tests.moto_kit import MotoServer
from tests.wheel_kit import run
from tests.zenml_server import zenml_server
from zenbatch.defaults import config_path, sample_dataset

BUCKET = "zenbatch-rehearsal"
ARTIFACTS = f"s3://{BUCKET}/artifacts"
SENTINEL = "sk-rehearsal-0123456789abcdef-SENTINEL"  # the provider's key; must show up nowhere
PROVIDER_SECRET = "rehearsal_provider"

# Run inside the wheel's venv against the server: what the runs of a pipeline did, as JSON.
RUNS_SCRIPT = """
import json, sys
from zenml.client import Client
client = Client()
runs = client.list_pipeline_runs(pipeline_name=sys.argv[1], sort_by="asc:created", size=100).items
out = []
for run in runs:
    steps = {}
    for name, step in run.steps.items():
        outputs = {key: [v.uri for v in versions] for key, versions in step.outputs.items()}
        steps[name] = {"status": step.status.value, "outputs": outputs, "parameters": sorted(step.config.parameters)}
    entry = {"id": str(run.id), "status": run.status.value, "schedule": str(run.schedule.id) if run.schedule else None,
             "steps": steps}
    if "advance_jobs" in run.steps and run.status.value == "completed":
        entry["loader_report"] = run.steps["advance_jobs"].outputs["loader_report"][0].load().model_dump(mode="json")
        entry["pause_report"] = run.steps["pause_when_done"].outputs["pause_report"][0].load().model_dump(mode="json")
    out.append(entry)
print(json.dumps(out, default=str))
"""


class Gate:
    """A TCP relay in front of the object store that can refuse every connection for a while.

    The store "refusing writes for a moment" is a network fault at the edge: the relay closes
    what it accepts while shut, and relays byte for byte while open.
    """

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.open = threading.Event()
        self.open.set()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, name="s3-gate", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with source, sink:
            while self.open.is_set():
                try:
                    data = source.recv(1 << 16)
                except OSError:
                    return
                if not data:
                    return
                sink.sendall(data)

    def close(self) -> None:
        self._listener.close()


class Rehearsal(SimpleNamespace):
    """The running rehearsal: ``cli(...)`` runs ``zenbatch`` from the wheel as a user's shell would."""

    def cli(self, *args: str, timeout: float = 600) -> str:
        return run([self.wheel.zenbatch, *args], self.env, self.project, timeout=timeout).stdout

    def start(self, *args: str) -> subprocess.Popen[str]:
        """``zenbatch ARGS`` in the background; its output (ZenML's lines too) is read from ``stdout``."""
        return subprocess.Popen([self.wheel.zenbatch, *args], env={**self.env, "ZENML_LOGGING_VERBOSITY": "INFO"},
                                cwd=self.project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip

    def step_processes(self, step: str) -> list[psutil.Process]:
        """The live processes of a step (``--step_name STEP``), wherever they were started from."""
        found = []
        for process in psutil.process_iter(["cmdline"]):
            command = process.info["cmdline"] or []
            if "--step_name" in command and command[command.index("--step_name") + 1 : command.index("--step_name") + 2] == [step]:
                found.append(process)
        return found

    def pod_files(self, pattern: str) -> list[Path]:
        """Files in the steps' own folders (their empty working directory and home)."""
        return list(self.pods.glob(pattern))

    def job(self, name: str, server: Any, rows: int | None = None) -> str:
        """The sample job (or its first ``rows``) under ``name``: its dataset in the bucket, its key a ZenML secret."""
        frame = pd.read_csv(sample_dataset())
        frame = frame.head(rows) if rows else frame
        key = f"data/{name}.csv"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=frame.to_csv(index=False).encode())
        provider = self.project / f"{name}-provider.yaml"
        provider.write_text(yaml.safe_dump({"kind": "local", "base_url": server.base_url, "api_key_secret": f"{PROVIDER_SECRET}.api_key"}))
        job = yaml.safe_load(config_path("jobs", "reviews").read_text())
        job.update(name=name, dataset={"path": f"s3://{BUCKET}/{key}"}, provider=str(provider))
        path = self.project / f"{name}.yaml"
        path.write_text(yaml.safe_dump(job))
        return str(path)

    def zenml(self, *args: str) -> str:
        return run([str(self.wheel.bin / "zenml"), *args], self.env, self.project).stdout

    def runs(self, pipeline: str) -> list[dict[str, Any]]:
        return self.python(RUNS_SCRIPT, pipeline)

    def python(self, source: str, *args: str) -> Any:
        """Runs ``source`` with the wheel's Python in the project folder; returns the JSON of its last line."""
        script = self.project / "script.py"
        script.write_text(source)
        return json.loads(run([str(self.wheel.python), str(script), *args], self.env, self.project).stdout.splitlines()[-1])


def rehearsal_stack(wheel: SimpleNamespace, moto: MotoServer, root: Path) -> Iterator[Rehearsal]:
    """Starts the ZenML server, makes the bucket, registers and activates the rehearsal stack.

    The artifact store and the dataset reads go through a :class:`Gate` in front of moto.
    """
    import boto3

    gate = Gate(moto.port)
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, **_boto_credentials(moto))
    s3.create_bucket(Bucket=BUCKET)
    with zenml_server(root / "zenml-server", root / "zenml-server" / "stores", existing_store=False) as url:
        project, pods = root / "project", root / "pods"
        project.mkdir()
        pods.mkdir()
        env = {
            "PATH": f"{wheel.bin}:/usr/bin:/bin", "HOME": str(root / "home"), "LANG": "C.UTF-8",
            "ZENML_CONFIG_PATH": str(root / "home" / "zenml"), "ZENBATCH_HOME": str(root / "home" / "zenbatch"),
            "ZENML_STORE_URL": url, "ZENML_ANALYTICS_OPT_IN": "false", "ZENML_ENABLE_RICH_TRACEBACK": "false",
            "ZENML_LOGGING_VERBOSITY": "WARN", "TMPDIR": str(pods),  # the steps' own folders are made here
            **moto.environment(), "AWS_ENDPOINT_URL_S3": gate.endpoint,
        }  # fmt: skip
        rehearsal = Rehearsal(wheel=wheel, moto=moto, gate=gate, s3=s3, url=url, env=env, project=project, root=root,
                              pods=pods, server_log=root / "zenml-server" / "server.log")  # fmt: skip
        rehearsal.cli("init", "--rehearsal", ARTIFACTS, "--s3-endpoint", gate.endpoint)
        rehearsal.zenml("secret", "create", PROVIDER_SECRET, f"--api_key={SENTINEL}")
        try:
            yield rehearsal
        finally:
            gate.close()


def _boto_credentials(moto: MotoServer) -> dict[str, str]:
    env = moto.environment()
    return {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
            "region_name": env["AWS_DEFAULT_REGION"]}  # fmt: skip


def bucket_objects(moto: MotoServer) -> dict[str, bytes]:
    """Every object in the rehearsal bucket, by key (zenbatch's zstd blobs decompressed, so a search sees their text)."""
    import boto3
    import pyarrow as pa

    client = boto3.client("s3", endpoint_url=moto.endpoint, **_boto_credentials(moto))
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET) for o in page.get("Contents", [])]
    objects = {key: client.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}
    for key, body in objects.items():
        if key.endswith(".zst"):
            with pa.CompressedInputStream(pa.BufferReader(body), "zstd") as stream:
                objects[key] = stream.read()
    return objects
