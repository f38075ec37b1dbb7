"""A ZenML of its own for tests: config and local store in a temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# ZENML_REPOSITORY_PATH points at a folder without `.zen`, so a `.zen` in the working directory
# (the project root has one) cannot override the isolated active stack.
ISOLATING_ENV = ("ZENML_CONFIG_PATH", "ZENML_REPOSITORY_PATH", "ZENML_ANALYTICS_OPT_IN")


@contextmanager
def isolated_zenml(root: Path) -> Iterator[Path]:
    """Points ZenML at a fresh config under ``root`` and restores the previous one on exit.

    The local SQL store, default project and default stack are created on entry, so their cost
    (several seconds) is paid once, here.

    Args:
        root: an empty folder to hold the config, the store and an empty repository folder.

    Yields:
        The ZenML config path.
    """
    from zenml.client import Client
    from zenml.config.global_config import GlobalConfiguration

    config_path = root / "zenml-config"
    no_repository = root / "no-repository"
    no_repository.mkdir(parents=True, exist_ok=True)
    saved = {key: os.environ.get(key) for key in ISOLATING_ENV}
    os.environ["ZENML_CONFIG_PATH"] = str(config_path)
    os.environ["ZENML_REPOSITORY_PATH"] = str(no_repository)
    os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
    GlobalConfiguration._reset_instance()
    Client._reset_instance()
    try:
        Client().zen_store  # noqa: B018 (creates the store now)
        yield config_path
    finally:
        GlobalConfiguration._reset_instance()
        Client._reset_instance()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
