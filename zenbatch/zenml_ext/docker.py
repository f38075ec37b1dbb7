"""What a remote image needs of zenbatch: the package with a stack's extras, and their dependencies.

A pipeline config names the extras, ``settings.docker.requirements: ["zenbatch[vertex,gcs]"]``;
the entry points (``zenbatch.zenml_ext.runs``) expand that line into the installed version and
every requirement it brings, read from the package's own metadata, so an image built from the
config gets exactly what this zenbatch needs, and nothing that is only on the submitting machine.
A pipeline of your own sets ``DockerSettings(requirements=image_requirements(["vertex", "gcs"]))``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable

from packaging.requirements import Requirement

from zenbatch.errors import ConfigError

PACKAGE = "zenbatch"
ALWAYS = ("zenml",)  # a pipeline's image runs ZenML's step entrypoint


def image_requirements(extras: Iterable[str] = ()) -> list[str]:
    """``zenbatch[extras]==VERSION`` and every requirement of the package with those extras."""
    distribution = importlib.metadata.distribution(PACKAGE)
    known = set(distribution.metadata.get_all("Provides-Extra") or [])
    chosen = sorted({*ALWAYS, *extras})
    if unknown := [e for e in chosen if e not in known]:
        raise ConfigError(f"unknown zenbatch extra {', '.join(unknown)} in the Docker requirements; known: {', '.join(sorted(known))}")
    lines = [f"{PACKAGE}[{','.join(chosen)}]=={distribution.version}"]
    for text in distribution.requires or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": extra}) for extra in chosen):
            requirement.marker = None
            if str(requirement) not in lines:
                lines.append(str(requirement))
    return lines


def expand(requirements: list[str]) -> list[str]:
    """The requirement lines of a config, with each ``zenbatch[...]`` line expanded (see the module)."""
    out: list[str] = []
    for line in requirements:
        requirement = Requirement(line)
        out.extend(image_requirements(requirement.extras) if requirement.name == PACKAGE else [line])
    return list(dict.fromkeys(out))
