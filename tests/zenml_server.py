"""ZenML's own server as a process of its own, under uvicorn, the way ``zenml login --local`` runs it.

No authentication (the local deployment's mode), on a free port of 127.0.0.1. Clients reach it
only over REST: the dashboard tests' browser, and the rehearsal's steps (through
``ZENML_STORE_URL``, as pods do).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import free_port


@contextmanager
def zenml_server(folder: Path, stores_path: str | Path, *, existing_store: bool) -> Iterator[str]:
    """Runs the server on the SQLite store under ``stores_path``; yields its URL.

    Args:
        folder: for the server's own config and its log (``server.log``).
        stores_path: ZenML's local stores folder holding (or to hold) the SQLite database.
        existing_store: the store is in use by this test process already: skip migrations.
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZENML_REPOSITORY_PATH", "ZENML_STORE_"))}
    env.update(
        ZENML_SERVER="true", ZENML_CONFIG_PATH=str(folder / "server-config"), ZENML_LOCAL_STORES_PATH=str(stores_path),
        ZENML_SERVER_AUTH_SCHEME="NO_AUTH", ZENML_SERVER_DEPLOYMENT_TYPE="local", ZENML_SERVER_AUTO_ACTIVATE="True",
        ZENML_SERVER_ALLOW_LOCAL_FILE_ACCESS="true",  # the dashboard shows visualizations of a local artifact store
        ZENML_ANALYTICS_OPT_IN="false",
    )  # fmt: skip
    if existing_store:
        env["ZENML_DISABLE_DATABASE_MIGRATION"] = "True"
    log_path = folder / "server.log"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log_path)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the ZenML server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the ZenML server at {url} did not answer /health within {timeout} s")
