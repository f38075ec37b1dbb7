"""Paths given to steps are relative to the ZenML source root (the repository)."""

from __future__ import annotations

from pathlib import Path


def resolve(path: str) -> Path:
    from zenml.utils.source_utils import get_source_root

    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else Path(get_source_root()) / candidate
