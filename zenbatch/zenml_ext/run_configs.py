"""What a run is configured with: its pipeline config, and for a submit run, its job.

A pipeline config is a shipped default or the user's file, with what code adds to it: ZenML
refuses a parameter set both in a config file and in code, so a run whose parameters come from
the command line gets a copy of its config with them written in, removed after the run. The job
is parsed once, here, and handed to the pipeline as content, so a step never reads a file of
the submitting machine.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from zenbatch.config import DatasetConfig, JobConfig, ProviderConfig
from zenbatch.defaults import SAMPLE_JOB, config_path
from zenbatch.yaml_config import from_mapping, load_yaml
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


def submit_job(
    job_config: str | Path | None = None,
    provider_config: str | Path | None = None,
    config: str | Path | None = None,
    dataset_artifact: str | None = None,
) -> JobConfig:
    """The job a submit run gets, parsed once.

    It is ``job_config`` (a file or a shipped job's name), else the pipeline config's own
    ``parameters.job``, else the sample job; ``provider_config`` (a file or openai, azure,
    local) replaces its provider, and ``dataset_artifact`` (``name[:version]``) its dataset.
    """
    path = pipeline_config("submit", config)
    inline = (load_yaml(path).get("parameters") or {}).get("job")
    provider = config_path("providers", provider_config) if provider_config is not None else None
    if job_config is None and isinstance(inline, dict):
        # Paths in it are relative to the pipeline config, as a job file's are to the job file.
        job = from_mapping(JobConfig, {"base_dir": str(path.resolve().parent), **inline}, f"{path} (parameters.job)")
        if provider is not None:
            job = job.model_copy(update={"provider": ProviderConfig.from_yaml(provider)})
    else:
        job = JobConfig.from_yaml(config_path("jobs", job_config, SAMPLE_JOB), provider=provider)
    if dataset_artifact:
        name, _, version = dataset_artifact.partition(":")
        job.dataset = DatasetConfig(artifact=name, version=version or None)
    return job


def file_job(
    path: str | Path, provider_config: str | Path | None = None, *, rewrite_for: str | None = None, base_model: str | None = None
) -> JobConfig:
    """A job that submits an existing batch file (named after it); ``provider_config`` as for :func:`submit_job` (default: local)."""
    from zenbatch.datasets import is_uri

    source = str(path) if is_uri(path) else str(Path(path).resolve())
    provider = ProviderConfig.from_yaml(config_path("providers", provider_config, "local"))
    name = Path(str(path).rsplit("/", 1)[-1]).stem
    return from_mapping(JobConfig, {"name": name, "provider": provider, "input_file": {
        "path": source, "rewrite_for": rewrite_for, "base_model": base_model}}, str(path))  # fmt: skip
