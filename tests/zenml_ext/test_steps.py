"""Steps take their settings as mappings from pipeline configs; a bad one is a ConfigError naming the key."""

from __future__ import annotations

import pytest

from zenbatch.errors import ConfigError


def test_a_bad_labeling_config_names_the_step_and_the_key():
    from zenbatch.zenml_ext.steps.label_results import label_results

    with pytest.raises(ConfigError, match=r"label_results step's config.*labelz.*unknown key"):
        label_results.entrypoint(batch_results=None, config={"labelz": ["a"]})


def test_a_bad_finetune_config_names_the_step_and_the_key():
    from zenbatch.zenml_ext.steps.export_finetune import export_finetune

    with pytest.raises(ConfigError, match=r"export_finetune step's config.*validation_share"):
        export_finetune.entrypoint(labeled_dataset=None, batch_job=None, config={"validation_share": "half"})
