"""The provider a config describes: its profile's client, wrapped in the batch protocol.

A key never sits in YAML: it comes from the call (a step resolves a ZenML secret), or from
the environment variable the config names. Azure takes a key or Entra ID (DefaultAzureCredential).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zenbatch.providers import profile_of
from zenbatch.providers.base import BatchProvider, RetryPolicy

if TYPE_CHECKING:
    from zenbatch.config import ProviderConfig


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
    client, secrets = profile_of(config.kind).client(config, api_key, token_provider, http_client)
    return BatchProvider(
        client, config.dialect(), files=config.file_policy(), min_poll_seconds=config.poll_floor,
        max_age_hours=config.max_age_hours, name=config.kind, secrets=secrets, retry=retry, **kwargs,
    )  # fmt: skip
