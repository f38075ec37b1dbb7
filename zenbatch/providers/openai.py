"""OpenAI, and any host speaking its batch protocol at its own base URL."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import openai

from zenbatch.errors import ConfigError
from zenbatch.providers.profile import MB, Profile, ProviderLimits, TokenProvider

if TYPE_CHECKING:
    from zenbatch.config import ProviderConfig


class OpenAIProfile(Profile):
    kind = "openai"
    key_env = "OPENAI_API_KEY"
    limits = ProviderLimits(max_requests=50_000, max_bytes=200 * MB, max_embedding_inputs=50_000)
    base_url: str | None = None  # the SDK's own (https://api.openai.com/v1)
    key_required = True

    def client(self, config: ProviderConfig, api_key: str | None, token_provider: TokenProvider | None,
               http_client: Any) -> tuple[openai.OpenAI, list[str]]:  # fmt: skip
        env = config.api_key_env or self.key_env
        key = api_key or os.environ.get(env)
        if self.key_required and not key:
            raise ConfigError(
                f"no OpenAI API key: set the environment variable {env}, or provider.api_key_secret to a "
                "ZenML secret (name.key); never put the key in YAML"
            )
        client = openai.OpenAI(
            api_key=key or "local", base_url=config.base_url or self.base_url, organization=config.organization,
            project=config.project, max_retries=0, http_client=http_client,
        )  # fmt: skip
        return client, [key or ""]


PROFILE = OpenAIProfile()
