"""Every pipeline and stack config is one ZenML accepts, with the schedule each orchestrator needs."""

from __future__ import annotations

import pytest
import yaml

from zenbatch.defaults import config_path, shipped

CONFIGS = [config_path(kind, name) for kind in ("pipelines", "stacks") for name in shipped(kind)]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_config_is_a_valid_zenml_run_configuration(path):
    from zenml.config.pipeline_run_configuration import PipelineRunConfiguration

    config = yaml.safe_load(path.read_text())
    schedule = config.pop("schedule", None)
    PipelineRunConfiguration.model_validate(config)
    if schedule is not None:
        assert schedule.get("name"), "a schedule needs a name: the loader pauses it by name"
        assert schedule.get("cron_expression") or schedule.get("interval_second")


def test_sagemaker_cron_has_six_fields_and_the_others_five():
    crons = {name: yaml.safe_load(config_path("stacks", name).read_text())["schedule"]["cron_expression"] for name in shipped("stacks")}
    assert len(crons["sagemaker"].split()) == 6
    assert len(crons["vertex"].split()) == 5 and len(crons["kubernetes"].split()) == 5
