"""Providers built from configs, run end to end against the local server's OpenAI and Azure paths."""

import pandas as pd
import pytest

from zenbatch.config import JobConfig, ProviderConfig
from zenbatch.errors import ConfigError
from zenbatch.lifecycle import Outcome, prepare_job, run_until_done
from zenbatch.providers.azure import entra_token_provider
from zenbatch.providers.factory import make_provider
from zenbatch.server import LocalBatchServer

KEY = "local-test-key-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with LocalBatchServer(data_dir=tmp_path_factory.mktemp("azure-server"), engine="echo", api_key=KEY) as running:
        yield running


def run_job(provider_config: dict, workdir, **auth):
    frame = pd.DataFrame({"text": ["alpha", "beta", "gamma"]})
    config = JobConfig.model_validate({
        "name": f"e2e-{workdir.name}",  # a job of its own per test: each one submits, none reuses another's batch
        "template": {"model": "gpt-4o-mini", "user_template": "{text}", "parameters": {"max_tokens": 3}},
        "provider": provider_config,
    })  # fmt: skip
    provider = make_provider(config.provider, **auth)
    job, _ = prepare_job(config, workdir, frame)
    outcome, collection = run_until_done(job, provider, inputs=frame, poll_interval=0.05, timeout=60)
    assert provider.calls["create"] == 1
    return outcome, collection.results.to_pandas(), job


@pytest.mark.parametrize("style", ["legacy", "v1"])
@pytest.mark.parametrize("auth", ["key", "token"])
def test_azure_end_to_end(server, tmp_path, style, auth):
    provider = {
        "kind": "azure",
        "azure_endpoint": server.azure_endpoint,
        "deployment": "gpt-4o-mini-batch",
        "api_style": style,
        "min_poll_seconds": 0,
    }  # the local server needs no minute between polls
    if auth == "key":
        outcome, results, job = run_job(provider, tmp_path, api_key=KEY)
    else:
        calls = []

        def token_provider():
            calls.append(1)
            return KEY

        outcome, results, job = run_job({**provider, "auth": "entra_id"}, tmp_path, token_provider=token_provider)
        assert calls  # every request asked the provider for a fresh token
    assert outcome == Outcome.COMPLETED
    assert results["content"].tolist() == ["alpha", "beta", "gamma"]
    assert job.model == "gpt-4o-mini-batch"
    assert job.endpoint == ("/chat/completions" if style == "legacy" else "/v1/chat/completions")
    assert job.batch_endpoint == "/chat/completions"


def test_openai_style_local_provider_with_a_key_from_the_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_LOCAL_KEY", KEY)
    outcome, results, _ = run_job({"kind": "local", "base_url": server.base_url, "api_key_env": "MY_LOCAL_KEY"}, tmp_path)
    assert outcome == Outcome.COMPLETED and (results["status"] == "succeeded").all()


def test_a_wrong_key_is_refused_without_showing_it(server, tmp_path):
    from zenbatch.errors import ProviderError

    with pytest.raises(ProviderError) as info:
        run_job({"kind": "local", "base_url": server.base_url}, tmp_path, api_key="sk-wrong-key-000000000000")
    assert "401" in str(info.value) and "sk-wrong" not in str(info.value)


@pytest.mark.parametrize(
    "config, fragment",
    [
        ({"kind": "openai"}, "OPENAI_API_KEY"),
        ({"kind": "azure", "deployment": "d"}, "azure_endpoint"),
        ({"kind": "azure", "azure_endpoint": "https://r.openai.azure.com"}, "GlobalBatch"),
        ({"kind": "azure", "azure_endpoint": "https://r.openai.azure.com", "deployment": "d"}, "AZURE_OPENAI_API_KEY"),
    ],
)
def test_missing_settings_name_what_to_set(config, fragment, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=fragment):
        make_provider(ProviderConfig.model_validate(config))


def test_entra_id_wiring_builds_a_token_provider_without_calling_the_network():
    # DefaultAzureCredential is built and wrapped; asking it for a token would reach Azure
    # (or the instance metadata service), so the test stops before that.
    provider = entra_token_provider()
    assert callable(provider)
    config = ProviderConfig(kind="azure", azure_endpoint="https://r.openai.azure.com", deployment="d", auth="entra_id")
    built = make_provider(config)
    assert built.name == "azure" and built.dialect.deployment == "d"
