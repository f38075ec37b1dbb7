"""Batch providers: one interface (the OpenAI batch protocol) and the factories that build it."""

from zenbatch.providers.base import BatchInfo, BatchProvider, RetryPolicy, redact
from zenbatch.providers.factory import entra_token_provider, make_provider

__all__ = ["BatchInfo", "BatchProvider", "RetryPolicy", "entra_token_provider", "make_provider", "redact"]
