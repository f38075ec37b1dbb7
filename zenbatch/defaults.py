"""The configs and the sample dataset that ship inside the package.

Every command and pipeline of zenbatch has a default config under ``zenbatch/configs/``:
``jobs/`` (the sample job), ``pipelines/`` (one per pipeline), ``providers/`` (openai, azure,
local) and ``stacks/`` (the loader on Kubernetes, Vertex AI, SageMaker). A config is named by
either a file of the user's or the name of a shipped one (``openai``, ``vertex``), so
``--provider openai`` and ``--provider ./my-openai.yaml`` both work, from any directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from zenbatch.errors import ConfigError

Kind = Literal["jobs", "pipelines", "providers", "stacks"]
SAMPLE_JOB = "reviews"
SAMPLE_DATASET = "reviews.csv"


def _folder(kind: Kind) -> Path:
    # Wheels install as plain files, so the resource folder is a real directory.
    return Path(str(resources.files("zenbatch") / "configs" / kind))


def shipped(kind: Kind) -> list[str]:
    """The names of the shipped configs of a kind, e.g. ``["azure", "local", "openai"]``."""
    return sorted(path.stem for path in _folder(kind).glob("*.yaml"))


def config_path(kind: Kind | tuple[Kind, ...], value: str | Path | None, default: str | None = None) -> Path:
    """The file of a config: ``value`` as a path when it is one, else a shipped config by name.

    Args:
        kind: which folder(s) of shipped configs a bare name is looked up in, in order.
        value: a path, the name of a shipped config, or None for ``default``.
        default: the shipped config used when ``value`` is None.

    Raises:
        ConfigError: neither a file nor a shipped name; the message lists the shipped names.
    """
    kinds = (kind,) if isinstance(kind, str) else kind
    names = [name for each in kinds for name in shipped(each)]
    what = " or ".join(each[:-1] for each in kinds)
    chosen = value if value is not None else default
    if chosen is None:
        raise ConfigError(f"no {what} config given: pass a YAML file or one of {', '.join(names)}")
    path = Path(chosen).expanduser()
    if path.is_file():
        return path
    if path.suffix not in (".yaml", ".yml") and path.name == str(chosen):
        for each in kinds:
            packaged = _folder(each) / f"{chosen}.yaml"
            if packaged.is_file():
                return packaged
    raise ConfigError(
        f"{what} config {str(chosen)!r} is neither a file nor a shipped config; pass an existing YAML file "
        f"or one of {', '.join(names)} (`zenbatch init --configs` lists them with their files)"
    )


def sample_dataset() -> Path:
    """The sample dataset: 300 product reviews with a ground-truth ``label`` column."""
    return Path(str(resources.files("zenbatch") / "data" / SAMPLE_DATASET))
