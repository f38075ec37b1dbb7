"""Fixtures: real LocalBatchServers (echo engine) in threads, and real openai clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from zenbatch.server import LocalBatchServer


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LocalBatchServer]]:
    """Start echo-engine servers on free ports; all are stopped at the end of the test."""
    started: list[LocalBatchServer] = []

    def make(data_dir: Path | None = None, **options: Any) -> LocalBatchServer:
        options.setdefault("engine", "echo")
        server = LocalBatchServer(data_dir or tmp_path / "data", **options).start()
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., LocalBatchServer]) -> LocalBatchServer:
    return make_server()


def openai_client(server: LocalBatchServer, api_key: str = "unused") -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key=api_key, max_retries=0, timeout=30)


@pytest.fixture
def client(server: LocalBatchServer) -> OpenAI:
    return openai_client(server)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBatchServer]:
    """One echo server for a module of independent tests (each makes its own batches)."""
    with LocalBatchServer(tmp_path_factory.mktemp("shared"), engine="echo", workers=2, max_requests=5) as srv:
        yield srv


@pytest.fixture
def shared_client(shared_server: LocalBatchServer) -> OpenAI:
    return openai_client(shared_server)
