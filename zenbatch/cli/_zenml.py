"""What the ZenML-backed commands share: a clear error without ZenML, quiet logs, tables."""

from __future__ import annotations

import os
from pathlib import Path

import zenbatch
from zenbatch.errors import ConfigError

PACKAGE = Path(zenbatch.__file__).resolve().parent


def use_zenml() -> None:
    """Fail clearly when the ZenML extra is missing; keep ZenML's own output modest."""
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
    os.environ.setdefault("ZENML_ENABLE_RICH_TRACEBACK", "false")
    os.environ.setdefault("AUTO_OPEN_DASHBOARD", "false")
    try:
        from zenml.utils import source_utils
    except ImportError:
        raise ConfigError("this command runs ZenML pipelines: install them with `pip install 'zenbatch[zenml]'`") from None
    # Sources (steps, materializers, the types of artifacts) are recorded relative to the source
    # root, which ZenML takes from the working directory's ZenML repository or the main module.
    # That is the user's project, except for `python -m zenbatch` outside any repository on a
    # checkout, where the main module's folder is the package itself and ``zenbatch.jobs.BatchJob``
    # would be recorded as ``jobs.BatchJob``: there the package's parent is the root.
    root = Path(source_utils.get_source_root()).resolve()
    if root == PACKAGE or PACKAGE in root.parents:
        source_utils.set_custom_source_root(str(PACKAGE.parent))
