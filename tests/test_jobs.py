"""A job's saved state: typed through and through, and a broken one named with its file and key."""

from __future__ import annotations

import orjson
import pytest

from zenbatch.config import ProviderConfig
from zenbatch.errors import ConfigError
from zenbatch.jobs import BatchJob
from zenbatch.pricing import JobEstimate


def _job(tmp_path) -> BatchJob:
    return BatchJob(
        name="reviews", workdir=str(tmp_path), provider="azure", endpoint="/chat/completions",
        batch_endpoint="/chat/completions", model="gpt-4o-mini-batch", pricing_model="gpt-4o-mini",
        estimate=JobEstimate(requests=3, prompt_tokens=120, batch_cost=0.25, realtime_cost=0.5, prices_as_of="2026-11-01"),
        provider_config=ProviderConfig(kind="azure", azure_endpoint="https://acme.openai.azure.com", deployment="gpt-4o-mini-batch",
                                       api_key_secret="azure.api_key"),
    )  # fmt: skip


def test_the_estimate_and_the_provider_config_come_back_as_they_were_saved(tmp_path):
    job = _job(tmp_path)
    job.save(tmp_path / "job.json")
    saved = orjson.loads((tmp_path / "job.json").read_bytes())
    assert saved["provider_config"]["api_key_secret"] == "azure.api_key"  # the secret's name, never a key
    restored = BatchJob.load(tmp_path / "job.json")
    assert restored.estimate == job.estimate and restored.estimate.realtime_cost - restored.estimate.batch_cost == 0.25
    assert restored.provider_config == job.provider_config
    assert restored.provider_config.address == "https://acme.openai.azure.com"


def test_a_state_from_before_typed_estimates_still_loads(tmp_path):
    state = _job(tmp_path).model_dump(mode="json")
    state["estimate"] = {"requests": 3, "batch_cost": 0.25}  # older states lack some figures
    (tmp_path / "job.json").write_bytes(orjson.dumps(state))
    restored = BatchJob.load(tmp_path / "job.json")
    assert restored.estimate.batch_cost == 0.25 and restored.estimate.currency == "USD" and restored.estimate.output_tokens == 0


def test_a_broken_saved_provider_config_names_the_file_and_the_key(tmp_path):
    state = _job(tmp_path).model_dump(mode="json")
    state["provider_config"]["kind"] = "azrue"
    (tmp_path / "job.json").write_bytes(orjson.dumps(state))
    with pytest.raises(ConfigError, match=r"invalid BatchJob in .*job\.json: provider_config\.kind: Input should be 'openai', 'azure' or 'local'"):
        BatchJob.load(tmp_path / "job.json")
