"""Azure OpenAI: a key or Entra ID, the legacy (api-version) or v1 API, and a batch deployment as the model.

Unfinished batches keep running past 24 hours (they do not expire), a resource holds at most 500
input files without an expiry (10,000 with one), it should be polled at most once a minute,
embeddings batches are not taken (as of early 2026), and images only by vision deployments.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import openai

from zenbatch.errors import ConfigError
from zenbatch.providers.profile import DAY, MB, FilePolicy, Profile, ProviderLimits, TokenProvider

if TYPE_CHECKING:
    from zenbatch.config import ProviderConfig

DEFAULT_API_VERSION = "2024-10-21"
SCOPE = "https://cognitiveservices.azure.com/.default"


class AzureProfile(Profile):
    kind = "azure"
    key_env = "AZURE_OPENAI_API_KEY"
    limits = ProviderLimits(max_requests=100_000, max_bytes=200 * MB)
    files = FilePolicy(input_expires_after=14 * DAY, output_expires_after=14 * DAY)
    expires = False
    min_poll_seconds = 60.0
    vision_by_default = False  # images only with a deployment the config marks vision: true
    embeddings = False  # embeddings batches were not taken as of early 2026

    def client(self, config: ProviderConfig, api_key: str | None, token_provider: TokenProvider | None,
               http_client: Any) -> tuple[openai.OpenAI, list[str]]:  # fmt: skip
        if not config.azure_endpoint:
            raise ConfigError("Azure needs provider.azure_endpoint, e.g. https://RESOURCE.openai.azure.com")
        if not config.deployment:
            raise ConfigError(
                "Azure needs provider.deployment: the name of a GlobalBatch or DataZoneBatch deployment (batch jobs cannot use a Standard deployment)"
            )
        key = None
        if config.auth == "key":
            env = config.api_key_env or self.key_env
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
                azure_endpoint=endpoint, api_version=config.api_version or DEFAULT_API_VERSION, max_retries=0,
                http_client=http_client, **auth,
            )  # fmt: skip
        return client, [key or ""]


def entra_token_provider() -> TokenProvider:
    """A bearer-token provider from ``DefaultAzureCredential`` (needs ``azure-identity``)."""
    try:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    except ImportError as exc:
        raise ConfigError("provider.auth: entra_id needs azure-identity: pip install 'zenbatch[azure]'") from exc
    return get_bearer_token_provider(DefaultAzureCredential(), SCOPE)


PROFILE = AzureProfile()
