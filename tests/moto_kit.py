"""moto's standalone S3 server on 127.0.0.1, started once per test session.

Tests that read or write ``s3://`` take the ``s3`` fixture: it points boto3, s3fs and everything
built on them at the server through the environment (``AWS_ENDPOINT_URL_S3`` and test
credentials), as a pod's identity would, and gives the test a bucket of its own.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers import free_port, listening

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
_buckets = itertools.count()


class MotoServer:
    """``python -m moto.server`` on a free port; ``stop()`` and ``start()`` again keep nothing (a fresh store)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MotoServer:
        with (self.folder / "moto.log").open("ab") as log:  # the child keeps its own copy of the handle
            self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + 30
        while not listening(self.port):
            assert self.process.poll() is None, f"moto's server exited: {(self.folder / 'moto.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "moto's server did not listen within 30 s"
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        self.process = None

    def environment(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL_S3": self.endpoint}


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """This test's bucket on the session's S3 server, with the environment pointing at it."""
    import boto3

    for key, value in moto_server.environment().items():
        monkeypatch.setenv(key, value)
    bucket = f"zenbatch-test-{next(_buckets)}"
    client = boto3.client("s3")
    client.create_bucket(Bucket=bucket)
    return SimpleNamespace(server=moto_server, client=client, bucket=bucket, url=f"s3://{bucket}")
