"""The local batch server (``zenbatch serve``): OpenAI's protocol and dialect, a key only if it was started with one."""

from __future__ import annotations

from zenbatch.providers.openai import OpenAIProfile

DEFAULT_URL = "http://127.0.0.1:8000/v1"


class LocalProfile(OpenAIProfile):
    kind = "local"  # type: ignore[assignment]  # the OpenAI protocol, another kind
    key_env = "ZENBATCH_API_KEY"
    base_url = DEFAULT_URL
    key_required = False


PROFILE = LocalProfile()
