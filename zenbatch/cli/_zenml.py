"""What the ZenML-backed commands share: a clear error without ZenML, quiet logs, tables."""

from __future__ import annotations

import os
from pathlib import Path

from zenbatch.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the folder holding zenbatch/, steps/, pipelines/


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
    # root. Left to ZenML it depends on the working directory, and a command run outside the
    # project would record ``jobs.BatchJob`` where every other run reads ``zenbatch.jobs.BatchJob``.
    source_utils.set_custom_source_root(str(PROJECT_ROOT))


def money(value: float | None) -> str:
    if value is None:
        return "—"
    if value and abs(value) < 0.0001:  # fractions of a cent: keep 2 significant digits
        return f"${value:.2g}"
    return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"
