"""Job configs: where the rows come from."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from zenbatch.config import DatasetConfig, JobConfig
from zenbatch.errors import ConfigError
from zenbatch.estimate import load_requests
from zenbatch.yaml_config import from_mapping


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


TEMPLATE = {"endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "user_template": "{text}"}


@pytest.mark.parametrize(("metadata", "message"), [
    ({f"k{i}": "v" for i in range(10)}, r"10 pairs, and zenbatch adds 7 of its own: a batch takes at most 16, so give at most 9"),
    ({"zenbatch_job": "x"}, r"zenbatch_job: zenbatch sets these keys itself"),
    ({"k" * 65: "v"}, r"65 characters, at most 64"),
    ({"team": "x" * 513}, r"the value of 'team': 513 characters, at most 512"),
])  # fmt: skip
def test_batch_metadata_over_the_providers_limits_is_refused_with_the_limit(metadata, message):
    with pytest.raises(ConfigError, match=message):
        from_mapping(JobConfig, {"template": TEMPLATE, "metadata": metadata}, "job.yaml")


def test_reuse_follows_temperature_unless_set():
    assert JobConfig.model_validate({"template": TEMPLATE}).reuses()
    warm = {**TEMPLATE, "parameters": {"temperature": 0.7}}
    assert not JobConfig.model_validate({"template": warm}).reuses()
    assert JobConfig.model_validate({"template": warm, "reuse": True}).reuses()
    assert not JobConfig.model_validate({"template": TEMPLATE, "reuse": False}).reuses()
