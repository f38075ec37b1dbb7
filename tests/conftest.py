"""Shared test set-up: no analytics, no network, no stray ZenML state."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
os.environ.setdefault("ZENML_ENABLE_RICH_TRACEBACK", "false")
os.environ.setdefault("AUTO_OPEN_DASHBOARD", "false")

REPO = Path(__file__).resolve().parents[1]

from tests.flow import flow  # noqa: E402,F401  (the shared end-to-end flow, a session fixture)
from tests.moto_kit import moto_server, s3  # noqa: E402,F401  (moto's S3 server, once per session)
from tests.wheel_kit import wheel_venv  # noqa: E402,F401  (the built wheel in a fresh venv, once per session)


@pytest.fixture(scope="session")
def zenml_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A local ZenML store in a temporary folder, for the whole session; yields the config path.

    Tests share it, so they give their records unique names. Steps and pipelines are found
    from the repository (the custom source root); jobs keep their files in a temporary folder.
    """
    from zenml.utils import source_utils

    from tests.zenml_ext.isolated_zenml import isolated_zenml

    root = tmp_path_factory.mktemp("zenml")
    patch = pytest.MonkeyPatch()
    patch.setenv("ZENBATCH_HOME", str(root / "zenbatch-home"))
    patch.delenv("ZENML_ACTIVE_STACK_ID", raising=False)
    source_utils.set_custom_source_root(str(REPO))
    try:
        with isolated_zenml(root) as config_path:
            yield config_path
    finally:
        source_utils.set_custom_source_root(None)
        patch.undo()
