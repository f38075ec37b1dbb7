"""Batch providers: the OpenAI batch protocol written once (``base``), one module per provider
(``openai``, ``azure``, ``local``) with its profile, and the factory that builds one from a config.

The profiles by kind are here, so a config can name its provider's limits and lifetimes without
the batch protocol.
"""

from __future__ import annotations

from zenbatch.providers import azure, local, openai
from zenbatch.providers.profile import Profile, ProviderKind

PROFILES: dict[str, Profile] = {p.kind: p for p in (openai.PROFILE, azure.PROFILE, local.PROFILE)}


def profile_of(kind: ProviderKind) -> Profile:
    return PROFILES[kind]
