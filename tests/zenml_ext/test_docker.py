"""What a remote image gets: ZenML's own requirement gathering, on the pipelines' real settings.

For the submit and loader pipelines under each shipped stack config, the snapshot ZenML builds
for a run gives the Docker settings, and ``PipelineDockerImageBuilder.gather_requirements_files``
(what ``docker build`` would install, computed without Docker) must hold zenbatch with the
stack's extras, pinned to this version, and every requirement those bring.
"""

from __future__ import annotations

import importlib.metadata

import pytest

from zenbatch.errors import ConfigError
from zenbatch.zenml_ext.docker import image_requirements

pytestmark = pytest.mark.pipeline
VERSION = importlib.metadata.version("zenbatch")
STACKS = {
    "vertex": ("gcs,vertex,zenml", ["google-cloud-aiplatform", "gcsfs"]),
    "sagemaker": ("s3,sagemaker,zenml", ["sagemaker", "boto3", "s3fs"]),
    "kubernetes": ("s3,zenml", ["s3fs"]),
}
RUNTIME = ["openai", "orjson", "bpe-openai", "pandas", "pyarrow", "pydantic", "zenml", "croniter"]


def _gathered(pipeline_name: str, stack_config: str) -> list[str]:
    from zenml.client import Client
    from zenml.utils.pipeline_docker_image_builder import PipelineDockerImageBuilder

    from zenbatch.zenml_ext.pipelines import loader_pipeline, submit_pipeline
    from zenbatch.zenml_ext.run_configs import derived_config, pipeline_config, submit_job

    pipeline = {"submit": submit_pipeline, "loader": loader_pipeline}[pipeline_name]
    parameters = {"job": submit_job().model_dump(mode="json")} if pipeline_name == "submit" else None
    with derived_config(pipeline_config(pipeline_name, stack_config), parameters, drop=("schedule",)) as path:
        snapshot = pipeline.with_options(config_path=path).create_snapshot(name=f"docker-{pipeline_name}-{stack_config}")
    settings = snapshot.pipeline_configuration.docker_settings
    files = PipelineDockerImageBuilder.gather_requirements_files(settings, stack=Client().active_stack, log=False)
    return [line.strip() for _, content, _ in files for line in content.splitlines() if line.strip()]


@pytest.mark.parametrize("pipeline_name", ["submit", "loader"])
@pytest.mark.parametrize("stack_config", sorted(STACKS))
def test_the_image_gets_zenbatch_with_the_stacks_extras_and_their_requirements(zenml_store, pipeline_name, stack_config):
    extras, stack_packages = STACKS[stack_config]
    lines = _gathered(pipeline_name, stack_config)
    assert f"zenbatch[{extras}]=={VERSION}" in lines
    names = {line.split("[")[0].split("=")[0].split(">")[0].split("<")[0].split("!")[0].strip().lower() for line in lines}
    missing = [name for name in RUNTIME + stack_packages if name not in names]
    assert not missing, f"the {stack_config} image would lack {missing}: {lines}"


def test_an_unknown_extra_is_refused_with_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown zenbatch extra vertx.*known: .*vertex"):
        image_requirements(["vertx"])
