"""What a batch provider is, apart from the protocol: its limits, file lifetimes, dialect and client.

Each provider (``openai``, ``azure``, ``local``) has one module in this package holding a
:class:`Profile`: how its client is built and authenticated, its default base URL and key
variable, its per-file limits and file lifetimes, how often it may be polled, and how request
lines are written for it (its :class:`Dialect`). The batch protocol itself is written once, in
:mod:`zenbatch.providers.base`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import openai
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from zenbatch.config import ProviderConfig

MB = 1_000_000
DAY = 86_400
ProviderKind = Literal["openai", "azure", "local"]
ApiStyle = Literal["legacy", "v1"]
TokenProvider = Callable[[], str]


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


EXPIRY_RANGE = (3_600, 30 * DAY)  # the seconds OpenAI and Azure take for an uploaded or output file


class FilePolicy(BaseModel):
    """The lifetimes zenbatch asks for its files, and whether it deletes them when done.

    Attributes:
        input_expires_after: seconds an uploaded input file lives (``expires_after``); None
            sends none, and the provider's own default applies (Azure then counts the file
            against its 500 files without expiry).
        output_expires_after: seconds a batch's output and error files live (``output_expires_after``).
        delete_inputs: delete a batch's input file once the batch is terminal and collected.
        delete_outputs: delete its output and error files once downloaded and stored.
    """

    model_config = ConfigDict(extra="forbid")
    input_expires_after: int | None = Field(default=7 * DAY, ge=EXPIRY_RANGE[0], le=EXPIRY_RANGE[1])
    output_expires_after: int | None = Field(default=30 * DAY, ge=EXPIRY_RANGE[0], le=EXPIRY_RANGE[1])
    delete_inputs: bool = True
    delete_outputs: bool = True


class Dialect(BaseModel):
    """How request lines are written for one provider.

    Attributes:
        provider: openai, azure or local (the local server speaks OpenAI's dialect).
        api_style: for Azure, ``legacy`` (api-version, ``/chat/completions`` urls) or ``v1``.
        deployment: for Azure, the batch deployment name written as each line's model.
        limits: the provider's per-file limits, overridable.
        expires: whether unfinished batches expire after the completion window (OpenAI: 24 h;
            Azure keeps them running until cancelled).
        images: whether request lines may carry image inputs (Azure: only a deployment the
            config marks ``vision: true``).
        embeddings: whether ``/v1/embeddings`` batches are taken (Azure: not as of early 2026).
    """

    model_config = ConfigDict(extra="forbid")
    provider: ProviderKind = "openai"
    api_style: ApiStyle = "legacy"
    deployment: str | None = None
    limits: ProviderLimits = ProviderLimits(max_requests=50_000, max_bytes=200 * MB, max_embedding_inputs=50_000)
    expires: bool = True
    images: bool = True
    embeddings: bool = True

    def refusal(self, endpoint: str, images: bool) -> str | None:
        """Why this provider would refuse a job on ``endpoint`` (with image inputs, when ``images``), if it would."""
        if endpoint.removeprefix("/v1") == "/embeddings" and not self.embeddings:
            return (
                f"{self.provider} does not run /v1/embeddings as a batch (not as of early 2026): use the openai provider "
                "or the realtime embeddings API; if your resource takes embeddings batches now, set "
                "allow_embeddings: true in the provider config"
            )
        if images and not self.images:
            return (
                f"image inputs need a vision-capable model, and the batch deployment {self.deployment!r} is not marked "
                "as one: set vision: true in the provider config if it is (a gpt-4o deployment, say), or drop the images"
            )
        return None

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


class Profile:
    """One provider's facts and client; subclasses set the class attributes and ``client``."""

    kind: ClassVar[ProviderKind]
    key_env: ClassVar[str]
    limits: ClassVar[ProviderLimits]
    files: ClassVar[FilePolicy] = FilePolicy()
    expires: ClassVar[bool] = True
    min_poll_seconds: ClassVar[float] = 0.0
    vision_by_default: ClassVar[bool] = True  # every model takes images unless the config says otherwise
    embeddings: ClassVar[bool] = True

    def dialect(self, *, api_style: ApiStyle = "legacy", deployment: str | None = None,
                limits: dict[str, int | None] | None = None, vision: bool = False,
                allow_embeddings: bool = False) -> Dialect:  # fmt: skip
        """The dialect with this provider's limits, ``limits`` overriding some of them; ``vision`` and
        ``allow_embeddings`` lift the provider's refusals of images and embeddings."""
        merged = self.limits.model_copy(update=limits or {})
        return Dialect(
            provider=self.kind, api_style=api_style, deployment=deployment,
            limits=ProviderLimits.model_validate(merged.model_dump()), expires=self.expires,
            images=self.vision_by_default or vision, embeddings=self.embeddings or allow_embeddings,
        )  # fmt: skip

    def client(self, config: ProviderConfig, api_key: str | None, token_provider: TokenProvider | None,
               http_client: Any) -> tuple[openai.OpenAI, list[str]]:  # fmt: skip
        """The SDK client (built with ``max_retries=0``) and the secrets to redact from messages."""
        raise NotImplementedError
