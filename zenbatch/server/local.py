"""LocalBatchServer: the batch server in a background thread, for tests, demos and notebooks.

::

    with LocalBatchServer(data_dir=tmp_path, engine="echo") as server:
        client = OpenAI(base_url=server.base_url, api_key="unused")
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from zenbatch.server.apierror import ServerError
from zenbatch.server.app import create_app
from zenbatch.server.service import BatchService
from zenbatch.server.settings import FaultSettings, ServerSettings
from zenbatch.server.store import DB_NAME, read_execution_counts, read_upload_counts

STARTUP_TIMEOUT = 60.0


def build_settings(data_dir: str | Path, engine: str, api_key: str | None, workers: int, **options: Any) -> ServerSettings:
    """Settings from keyword arguments; fault options (``fail_rate``, ``expire_after``...) may be given flat."""
    faults = {k: options.pop(k) for k in list(options) if k in FaultSettings.model_fields}
    if "faults" in options:
        raise ServerError("give fault options as keywords (fail_rate=..., expire_after=...), not as faults=")
    return ServerSettings(data_dir=Path(data_dir), engine=engine, api_key=api_key, workers=workers, faults=FaultSettings(**faults), **options)


class LocalBatchServer:
    """Runs the batch server on 127.0.0.1 (a free port unless ``port`` is given) in a thread.

    Args:
        data_dir: where state lives; a new server on the same dir resumes unfinished batches.
        engine: ``llama-cpp`` (the default), ``echo`` or ``forward``.
        api_key: when set, clients must send it.
        workers: request lines run at the same time.
        **options: any other ServerSettings field (``port``, ``forward_url``, ``max_upload_bytes``...)
            and the fault options (``fail_rate``, ``fail_status``, ``seed``, ``line_delay_ms``,
            ``expire_after``, ``validate_delay``).
    """

    def __init__(self, data_dir: str | Path, engine: str = "llama-cpp", api_key: str | None = None, workers: int = 2, **options: Any):
        options.setdefault("port", 0)
        self.settings = build_settings(data_dir, engine, api_key, workers, **options)
        self.service: BatchService | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError("the server is not running; use it as a context manager or call start()")
        return f"http://{self.settings.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``OpenAI(base_url=...)``."""
        return f"{self.url}/v1"

    @property
    def azure_endpoint(self) -> str:
        """For ``AzureOpenAI(azure_endpoint=..., api_version=...)``; ``{azure_endpoint}/openai/v1`` is the v1 API."""
        return self.url

    def start(self) -> LocalBatchServer:
        if self._thread is not None:
            return self
        self.service = BatchService(self.settings)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.settings.host, self.settings.port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        app = create_app(self.service, manage_service=False)
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="zenbatch-http", daemon=True)
        self.service.start()
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"the local batch server did not start on {self.settings.host}:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving; running lines finish and are recorded, the rest wait for a restart."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
        if self.service is not None:
            self.service.stop()
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = self.service = None

    def execution_counts(self, *, succeeded_only: bool = False) -> dict[str, int]:
        """How many times each custom_id ran through the engine (or a fault), from SQLite;
        with ``succeeded_only``, how many times it was answered successfully (what is billed)."""
        return read_execution_counts(self.settings.data_dir / DB_NAME, succeeded_only=succeeded_only)

    def upload_counts(self) -> dict[str, int]:
        """How many times each file name was uploaded (files deleted since included), from SQLite."""
        return read_upload_counts(self.settings.data_dir / DB_NAME)

    def __enter__(self) -> LocalBatchServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
