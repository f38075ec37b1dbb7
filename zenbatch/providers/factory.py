"""Building providers from a config: credentials, base URLs and dialects.

A key never sits in YAML: it comes from the call (a step resolves a ZenML secret), or from
the environment variable the config names. Azure takes a key or Entra ID (DefaultAzureCredential).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import openai

from zenbatch.config import ProviderConfig
from zenbatch.errors import ConfigError
from zenbatch.providers.base import BatchProvider, RetryPolicy

DEFAULT_KEY_ENV = {"openai": "OPENAI_API_KEY", "azure": "AZURE_OPENAI_API_KEY", "local": "ZENBATCH_API_KEY"}
DEFAULT_LOCAL_URL = "http://127.0.0.1:8000/v1"
DEFAULT_AZURE_API_VERSION = "2024-10-21"
AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"


def make_provider(
    config: ProviderConfig,
    *,
    api_key: str | None = None,
    token_provider: Callable[[], str] | None = None,
    http_client: Any = None,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> BatchProvider:
    """The provider a config describes.

    Args:
        api_key: the key, when the caller resolved it (from a ZenML secret); else the
            environment variable ``config.api_key_env`` (or the provider's usual one) is read.
        token_provider: for Azure Entra ID, a callable returning a bearer token; built from
            ``DefaultAzureCredential`` when None.
        http_client: an ``httpx2.Client`` for the SDK (tests pass one with a mock transport).
    """
    if config.kind == "azure":
        return _azure(config, api_key, token_provider, http_client, retry, **kwargs)
    key = api_key or os.environ.get(config.api_key_env or DEFAULT_KEY_ENV[config.kind])
    if config.kind == "openai" and not key:
        raise ConfigError(
            f"no OpenAI API key: set the environment variable {config.api_key_env or 'OPENAI_API_KEY'}, "
            "or provider.api_key_secret to a ZenML secret (name.key); never put the key in YAML"
        )
    base_url = config.base_url or (DEFAULT_LOCAL_URL if config.kind == "local" else None)
    client = openai.OpenAI(
        api_key=key or "local",
        base_url=base_url,
        organization=config.organization,
        project=config.project,
        max_retries=0,
        http_client=http_client,
    )
    return BatchProvider(client, config.dialect(), name=config.kind, secrets=[key or ""], retry=retry, **kwargs)


def _azure(
    config: ProviderConfig,
    api_key: str | None,
    token_provider: Callable[[], str] | None,
    http_client: Any,
    retry: RetryPolicy | None,
    **kwargs: Any,
) -> BatchProvider:
    if not config.azure_endpoint:
        raise ConfigError("Azure needs provider.azure_endpoint, e.g. https://RESOURCE.openai.azure.com")
    if not config.deployment:
        raise ConfigError(
            "Azure needs provider.deployment: the name of a GlobalBatch or DataZoneBatch deployment "
            "(batch jobs cannot use a Standard deployment)"
        )
    key = None
    if config.auth == "key":
        env = config.api_key_env or DEFAULT_KEY_ENV["azure"]
        key = api_key or os.environ.get(env)
        if not key:
            raise ConfigError(
                f"no Azure OpenAI key: set the environment variable {env}, or provider.api_key_secret, "
                "or provider.auth: entra_id to sign in with DefaultAzureCredential"
            )
    elif token_provider is None:
        token_provider = entra_token_provider()
    endpoint = config.azure_endpoint.rstrip("/")
    if config.api_style == "v1":
        client: openai.OpenAI = openai.OpenAI(
            base_url=f"{endpoint}/openai/v1/", api_key=key or token_provider, max_retries=0, http_client=http_client
        )
    else:
        auth: dict[str, Any] = {"api_key": key} if key else {"azure_ad_token_provider": token_provider}
        client = openai.AzureOpenAI(
            azure_endpoint=endpoint,
            api_version=config.api_version or DEFAULT_AZURE_API_VERSION,
            max_retries=0,
            http_client=http_client,
            **auth,
        )
    return BatchProvider(client, config.dialect(), name="azure", secrets=[key or ""], retry=retry, **kwargs)


def entra_token_provider() -> Callable[[], str]:
    """A bearer-token provider from ``DefaultAzureCredential`` (needs ``azure-identity``)."""
    try:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    except ImportError as exc:
        raise ConfigError("provider.auth: entra_id needs azure-identity: pip install 'zenbatch[azure]'") from exc
    return get_bearer_token_provider(DefaultAzureCredential(), AZURE_SCOPE)
