"""A failed run is reported by its own name, whatever other run of its pipeline came after it."""

from __future__ import annotations

import re

import pytest

from tests.zenml_ext.tiny_pipeline import tiny_pipeline
from zenbatch.errors import PipelineRunError

pytestmark = pytest.mark.pipeline


def test_a_failed_run_is_named_by_its_own_name_not_by_the_newest_run_of_its_pipeline(zenml_store, tmp_path):
    from zenbatch.zenml_ext.failures import raise_run_failure
    from zenbatch.zenml_ext.runs import _run

    counter = str(tmp_path / "runs")
    with pytest.raises(PipelineRunError) as first:
        _run(tiny_pipeline, parameters={"counter": counter, "fail": True})
    assert "step count_run: run 1 fails on purpose" in str(first.value)
    first_run = re.search(r"run (tiny_pipeline-\S+), step", str(first.value))
    assert first_run is not None
    with pytest.raises(PipelineRunError, match="run 2 fails on purpose"):
        _run(tiny_pipeline, parameters={"counter": counter, "fail": True})  # a newer failed run of the same pipeline

    with pytest.raises(PipelineRunError) as again:
        raise_run_failure("tiny_pipeline", RuntimeError("Pipeline run has failed"), run_name=first_run.group(1))
    assert f"run {first_run.group(1)}, step count_run: run 1 fails on purpose" in str(again.value)
    with pytest.raises(PipelineRunError, match="run 2 fails on purpose"):
        raise_run_failure("tiny_pipeline", RuntimeError("Pipeline run has failed"))  # without a name: the newest
