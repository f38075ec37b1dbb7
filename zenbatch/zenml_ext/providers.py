"""Providers inside ZenML steps: the key from the configured ZenML secret, else from the environment.

A configured secret that is missing is an error unless the environment holds a key, in which
case that key is used and the run's log says why.
"""

from __future__ import annotations

import logging
import os

from zenbatch.config import ProviderConfig
from zenbatch.errors import ConfigError
from zenbatch.jobs import BatchJob
from zenbatch.providers.base import BatchProvider
from zenbatch.providers.factory import make_provider

log = logging.getLogger(__name__)


def secret_value(reference: str) -> str:
    """The value of a ZenML secret given as ``name.key``."""
    from zenml.client import Client

    name, _, key = reference.partition(".")
    if not name or not key:
        raise ConfigError(f"api_key_secret {reference!r} must be NAME.KEY, e.g. openai.api_key")
    try:
        secret = Client().get_secret(name)
    except KeyError:
        raise ConfigError(f"no ZenML secret named {name!r}: create it with `zenml secret create {name} --{key}=...`") from None
    values = secret.secret_values
    if key not in values:
        raise ConfigError(f"the ZenML secret {name!r} has no key {key!r} (it has: {', '.join(sorted(values))})")
    return values[key]


def provider_for(config: ProviderConfig | BatchJob) -> BatchProvider:
    """The provider of a config or a job; a configured secret wins over the environment."""
    if isinstance(config, BatchJob):
        config = config.provider_config
    api_key = None
    if config.api_key_secret:
        try:
            api_key = secret_value(config.api_key_secret)
        except ConfigError as exc:
            env = config.api_key_env or config.profile.key_env
            if not os.environ.get(env):
                raise ConfigError(f"{exc}; or set the environment variable {env} where the step runs") from None
            log.warning("%s; using the key in the environment variable %s instead", exc, env)
    return make_provider(config, api_key=api_key)
