"""Which job a submit run gets: parsed once, from a file, a shipped name or the pipeline config."""

from __future__ import annotations

import pytest
import yaml

from zenbatch.defaults import config_path, sample_dataset
from zenbatch.errors import ConfigError
from zenbatch.zenml_ext.run_configs import submit_job


def test_the_default_is_the_shipped_sample_on_the_local_server():
    job = submit_job()
    assert job.name == "reviews-sentiment" and job.provider.kind == "local"
    assert job.resolve(job.dataset.path).resolve() == sample_dataset().resolve()


def test_a_provider_by_name_and_an_artifact_dataset_replace_the_jobs_own():
    job = submit_job(provider_config="openai", dataset_artifact="reviews_rows:3")
    assert job.provider.kind == "openai" and job.provider.api_key_secret == "openai.api_key"
    assert (job.dataset.artifact, job.dataset.version) == ("reviews_rows", "3")


def test_a_job_written_in_the_pipeline_config_reads_paths_next_to_that_config(tmp_path):
    (tmp_path / "rows.csv").write_text("id,text\nr1,hello\n")
    template = yaml.safe_load(config_path("jobs", "reviews").read_text())["template"]
    pipeline = {"parameters": {"job": {"name": "inline", "dataset": {"path": "rows.csv"}, "template": template}}}
    (tmp_path / "submit.yaml").write_text(yaml.safe_dump(pipeline))
    job = submit_job(config=tmp_path / "submit.yaml")
    assert job.name == "inline" and job.resolve(job.dataset.path) == tmp_path / "rows.csv"


def test_an_unknown_provider_name_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match=r"provider config 'opneai' is neither a file nor a shipped config.*azure, local, openai"):
        submit_job(provider_config="opneai")
