"""Job configs: where the rows come from."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from zenbatch.config import DatasetConfig, JobConfig
from zenbatch.errors import ConfigError
from zenbatch.estimate import load_requests


def test_a_dataset_is_a_file_or_an_artifact_never_both_or_neither():
    assert DatasetConfig(path="rows.csv").artifact is None
    assert DatasetConfig(artifact="reviews", version="3").path is None
    with pytest.raises(ValidationError, match="exactly one of `path`"):
        DatasetConfig(path="rows.csv", artifact="reviews")
    with pytest.raises(ValidationError, match="exactly one of `path`"):
        DatasetConfig()
    with pytest.raises(ValidationError, match="set dataset.artifact too"):
        DatasetConfig(path="rows.csv", version="3")


def test_estimating_an_artifact_dataset_outside_a_pipeline_says_where_it_runs():
    config = JobConfig.model_validate({
        "dataset": {"artifact": "reviews"},
        "template": {"endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "user_template": "{text}"},
    })  # fmt: skip
    with pytest.raises(ConfigError, match="ZenML artifact 'reviews'.*zenbatch submit"):
        load_requests(config)
