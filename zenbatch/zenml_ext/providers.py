"""Providers inside ZenML steps: the key from a ZenML secret, else from the environment."""

from __future__ import annotations

from typing import Any

from zenbatch.config import ProviderConfig
from zenbatch.errors import ConfigError
from zenbatch.jobs import BatchJob
from zenbatch.providers import BatchProvider, make_provider


def secret_value(reference: str) -> str:
    """The value of a ZenML secret given as ``name.key``."""
    from zenml.client import Client

    name, _, key = reference.partition(".")
    if not name or not key:
        raise ConfigError(f"api_key_secret {reference!r} must be NAME.KEY, e.g. openai.api_key")
    try:
        secret = Client().get_secret(name)
    except KeyError:
        raise ConfigError(
            f"no ZenML secret named {name!r}: create it with `zenml secret create {name} --{key}=...`"
        ) from None
    values = secret.secret_values
    if key not in values:
        raise ConfigError(f"the ZenML secret {name!r} has no key {key!r} (it has: {', '.join(sorted(values))})")
    return values[key]


def provider_for(config: ProviderConfig | BatchJob | dict[str, Any]) -> BatchProvider:
    """The provider of a config or a job; a configured secret wins over the environment."""
    if isinstance(config, BatchJob):
        config = config.provider_config
    if isinstance(config, dict):
        config = ProviderConfig.model_validate(config)
    api_key = None
    if config.api_key_secret:
        try:
            api_key = secret_value(config.api_key_secret)
        except ConfigError:
            api_key = None  # fall back to the environment variable; make_provider says what is missing
    return make_provider(config, api_key=api_key)
