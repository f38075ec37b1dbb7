"""The Vertex fake, with the real aiplatform client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.zenml_ext.pausers.vertex_fake import LOCATION, PROJECT, FakeVertex


@pytest.fixture(scope="module")
def vertex_server() -> Iterator[FakeVertex]:
    server = FakeVertex().start()
    yield server
    server.stop()


@pytest.fixture
def vertex(vertex_server: FakeVertex) -> FakeVertex:
    """The fake, emptied, with aiplatform pointed at it over plain HTTP."""
    # Imported here so that only the tests using Vertex pay for (and warn about) aiplatform.
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    vertex_server.reset()
    # A scheme in api_endpoint is kept by the REST transport, so "http://" needs no TLS.
    aiplatform.init(
        project=PROJECT,
        location=LOCATION,
        credentials=AnonymousCredentials(),
        api_transport="rest",
        api_endpoint=vertex_server.endpoint,
    )
    return vertex_server
