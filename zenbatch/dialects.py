"""Provider dialects: the line url, the model field and the limits of each provider.

OpenAI and any host speaking its batch protocol use ``/v1/...`` urls and model names. Azure
OpenAI uses the batch *deployment* name as the model and, with the legacy api-version API,
``/chat/completions`` urls; with the v1 API, ``/v1/chat/completions``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MB = 1_000_000

ProviderKind = Literal["openai", "azure", "local"]


class ProviderLimits(BaseModel):
    """What one batch (one input file) may hold.

    Attributes:
        max_requests: request lines per file.
        max_bytes: bytes per input file.
        max_embedding_inputs: embedding inputs per file, in total over all lines.
        max_enqueued_tokens: prompt tokens per shard, when a per-model enqueued-token quota
            applies; None means no cap.
    """

    model_config = ConfigDict(extra="forbid")
    max_requests: int = Field(gt=0)
    max_bytes: int = Field(gt=0)
    max_embedding_inputs: int | None = Field(default=None, gt=0)
    max_enqueued_tokens: int | None = Field(default=None, gt=0)


OPENAI_LIMITS = ProviderLimits(max_requests=50_000, max_bytes=200 * MB, max_embedding_inputs=50_000)
AZURE_LIMITS = ProviderLimits(max_requests=100_000, max_bytes=200 * MB)


class Dialect(BaseModel):
    """How request lines are written for one provider.

    Attributes:
        provider: openai, azure or local (the local server speaks OpenAI's dialect).
        api_style: for Azure, ``legacy`` (api-version, ``/chat/completions`` urls) or ``v1``.
        deployment: for Azure, the batch deployment name written as each line's model.
        limits: the provider's per-file limits, overridable.
        expires: whether unfinished batches expire after the completion window (OpenAI: 24 h;
            Azure keeps them running until cancelled).
    """

    model_config = ConfigDict(extra="forbid")
    provider: ProviderKind = "openai"
    api_style: Literal["legacy", "v1"] = "legacy"
    deployment: str | None = None
    limits: ProviderLimits = OPENAI_LIMITS
    expires: bool = True

    @classmethod
    def for_provider(
        cls,
        provider: ProviderKind,
        *,
        api_style: Literal["legacy", "v1"] = "legacy",
        deployment: str | None = None,
        limits: dict | None = None,
    ) -> Dialect:
        base = AZURE_LIMITS if provider == "azure" else OPENAI_LIMITS
        merged = base.model_copy(update=limits or {})
        return cls(
            provider=provider,
            api_style=api_style,
            deployment=deployment,
            limits=ProviderLimits.model_validate(merged.model_dump()),
            expires=provider != "azure",
        )

    def line_url(self, endpoint: str) -> str:
        """The ``url`` of each request line for an endpoint."""
        if self.provider == "azure" and self.api_style == "legacy":
            return endpoint.removeprefix("/v1")
        return endpoint

    def batch_endpoint(self, endpoint: str) -> str:
        """The ``endpoint`` argument when creating the batch."""
        if self.provider == "azure":
            return endpoint.removeprefix("/v1")
        return endpoint

    def line_model(self, model: str) -> str:
        """The ``model`` written in each request body."""
        return self.deployment if self.provider == "azure" and self.deployment else model
