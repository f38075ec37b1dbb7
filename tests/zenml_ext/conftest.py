"""An isolated ZenML shared by every test of the session that asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.zenml_ext.isolated_zenml import isolated_zenml


@pytest.fixture(scope="session")
def zenml_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A local ZenML store in a temporary folder, for the whole session; yields the config path.

    Tests share it, so they give their records unique names.
    """
    with isolated_zenml(tmp_path_factory.mktemp("zenml")) as config_path:
        yield config_path
