"""A provider's key inside a step: the configured ZenML secret, else the environment, never silence."""

from __future__ import annotations

import logging

import pytest

from zenbatch.config import ProviderConfig
from zenbatch.errors import ConfigError
from zenbatch.zenml_ext.providers import provider_for

SECRET_KEY = "sk-from-the-zenml-secret-0000"
ENV_KEY = "sk-from-the-environment-0000"


@pytest.fixture
def openai_secret(zenml_store):
    from zenml.client import Client

    Client().create_secret("zb_test_openai", values={"api_key": SECRET_KEY})
    yield "zb_test_openai"
    Client().delete_secret("zb_test_openai")


def test_the_configured_secret_wins_over_the_environment(openai_secret, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    provider = provider_for(ProviderConfig(kind="openai", api_key_secret=f"{openai_secret}.api_key"))
    assert provider.client.api_key == SECRET_KEY


def test_a_missing_secret_without_a_key_in_the_environment_says_both_ways(zenml_store, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError) as raised:
        provider_for(ProviderConfig(kind="openai", api_key_secret="zb_absent.api_key"))
    message = str(raised.value)
    assert "no ZenML secret named 'zb_absent'" in message and "zenml secret create zb_absent --api_key=" in message
    assert "OPENAI_API_KEY" in message


def test_a_missing_secret_falls_back_to_the_environment_and_says_so(zenml_store, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    with caplog.at_level(logging.WARNING, logger="zenbatch.zenml_ext.providers"):
        provider = provider_for(ProviderConfig(kind="openai", api_key_secret="zb_absent.api_key"))
    assert provider.client.api_key == ENV_KEY
    assert "no ZenML secret named 'zb_absent'" in caplog.text and "OPENAI_API_KEY" in caplog.text
    assert ENV_KEY not in caplog.text


def test_a_secret_without_the_named_key_lists_the_keys_it_has(openai_secret, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"has no key 'token' \(it has: api_key\)"):
        provider_for(ProviderConfig(kind="openai", api_key_secret=f"{openai_secret}.token"))
