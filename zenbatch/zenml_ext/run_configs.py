"""Pipeline configs for a run: a shipped default or the user's file, with what code adds to it.

ZenML refuses a parameter set both in a config file and in code, so a run whose parameters
come from the command line gets a copy of its config with them written in, removed after the run.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from zenbatch.defaults import config_path
from zenbatch.yaml_config import load_yaml
from zenbatch.zenml_ext.docker import expand


def pipeline_config(pipeline: str, value: str | Path | None) -> Path:
    """The config of ``pipeline``: ``value`` (a file, or a shipped pipeline or stack config's name), else the default."""
    return config_path(("pipelines", "stacks"), value, default=pipeline)


@contextlib.contextmanager
def derived_config(path: Path, parameters: dict[str, Any] | None = None, *, drop: tuple[str, ...] = ()) -> Iterator[str]:
    """The config at ``path`` with ``parameters`` overriding its own, the ``drop`` keys removed, and
    zenbatch's line of its Docker requirements expanded (``zenbatch.zenml_ext.docker``)."""
    config = load_yaml(path)
    docker = (config.get("settings") or {}).get("docker") or {}
    requirements = docker.get("requirements")
    if not parameters and not drop and not isinstance(requirements, list):
        yield str(path)
        return
    if parameters:
        config["parameters"] = {**(config.get("parameters") or {}), **parameters}
    for key in drop:
        config.pop(key, None)
    if isinstance(requirements, list):
        docker["requirements"] = expand([str(line) for line in requirements])
    with tempfile.TemporaryDirectory(prefix="zenbatch-run-") as folder:
        derived = Path(folder) / path.name
        derived.write_text(yaml.safe_dump(config, sort_keys=False))
        yield str(derived)
