"""Job configs: dataset, template, provider, limits, prices and budget, from one YAML file.

Paths in a config are relative to the config file. Secrets never sit in a config: providers
take keys from the environment or a ZenML secret, named here only by the variable's name.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from zenbatch.errors import ConfigError
from zenbatch.pricing import PriceTable
from zenbatch.providers import profile_of
from zenbatch.providers.profile import EXPIRY_RANGE, Dialect, FilePolicy, Profile, ProviderKind, ProviderLimits
from zenbatch.templates import RequestTemplate
from zenbatch.yaml_config import from_mapping, load_yaml


class DatasetConfig(BaseModel):
    """Where the rows come from: a file, or a ZenML artifact (a DataFrame) in pipelines.

    Attributes:
        path: a .csv, .parquet or .jsonl file, relative to the config file.
        artifact: the name of a DataFrame artifact; the submit pipeline takes it as its input.
        version: the artifact's version (default: the latest).
        limit: use only the first N rows of a file.
    """

    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    artifact: str | None = None
    version: str | None = None
    limit: int | None = Field(default=None, gt=0, description="use only the first N rows")

    @model_validator(mode="after")
    def _one_source(self) -> DatasetConfig:
        if (self.path is None) == (self.artifact is None):
            raise ValueError("dataset needs exactly one of `path` (a file) or `artifact` (a ZenML artifact name)")
        if self.version is not None and self.artifact is None:
            raise ValueError("dataset.version pins an artifact version: set dataset.artifact too")
        return self


class InputFileConfig(BaseModel):
    """An existing batch input file (JSONL, the OpenAI or Azure guides' format), submitted as it is.

    Attributes:
        path: the file, relative to the config file, or an object-store URI.
        base_model: the model to tokenize and price as (for a deployment or local model name).
        expected_output_tokens: output tokens per request, when a line's max_tokens overstates them.
        rewrite_for: ``azure`` rewrites OpenAI-style lines (``/v1`` urls, model names) for the
            Azure provider's url style and batch deployment; without it such lines are refused.
        extra_parameters: body keys sent unchecked (parameters newer than the installed openai SDK).
    """

    model_config = ConfigDict(extra="forbid")
    path: str
    base_model: str | None = None
    expected_output_tokens: int | None = Field(default=None, gt=0)
    rewrite_for: Literal["azure"] | None = None
    extra_parameters: list[str] = Field(default_factory=list)


class ProviderConfig(BaseModel):
    """Which batch provider runs the job, and how to reach it.

    Attributes:
        kind: openai (also any host speaking its batch protocol), azure, or local.
        base_url: the API base URL (OpenAI-compatible hosts, the local server).
        api_key_env: the environment variable holding the key (never the key itself).
        api_key_secret: a ZenML secret (``name.key``) holding the key, used by pipeline steps.
        organization / project: OpenAI organization and project ids.
        azure_endpoint: ``https://RESOURCE.openai.azure.com`` for Azure.
        api_version: the Azure api-version (legacy style), e.g. ``2024-10-21``.
        api_style: Azure ``legacy`` (api-version) or ``v1`` (``/openai/v1/`` base URL).
        deployment: the Azure batch deployment name, written as each line's model.
        auth: Azure ``key`` or ``entra_id`` (DefaultAzureCredential).
        limits: overrides of the provider's per-file limits; ``max_enqueued_tokens`` is the
            queue limit of any model without one of its own.
        queue_limits: prompt tokens each model's (or Azure deployment's) unfinished batches may
            hold at once, over every job; the provider's per-model enqueued-token quota.
        tier: an OpenAI usage tier whose documented queue limits apply to models not in
            ``queue_limits`` (``zenbatch/data/queue_limits.yaml``).
        vision: the (Azure) deployment takes image inputs; Azure refuses images otherwise.
        allow_embeddings: send /v1/embeddings batches to Azure (refused before upload otherwise).
        min_poll_seconds: poll the provider at most this often (Azure's default: 60).
        max_age_hours: cancel a job still running after this many hours and collect what finished
            (Azure never expires a batch); None: no limit.
        files: overrides of the provider's file lifetimes and deletion (see ``FilePolicy``).
    """

    model_config = ConfigDict(extra="forbid")
    kind: ProviderKind = "openai"
    base_url: str | None = None
    api_key_env: str | None = None
    api_key_secret: str | None = None
    organization: str | None = None
    project: str | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None
    api_style: Literal["legacy", "v1"] = "legacy"
    deployment: str | None = None
    auth: Literal["key", "entra_id"] = "key"
    limits: dict[str, int | None] = Field(default_factory=dict)
    files: dict[str, int | bool | None] = Field(default_factory=dict)
    queue_limits: dict[str, int] = Field(default_factory=dict)
    tier: int | None = None
    vision: bool = False
    allow_embeddings: bool = False
    min_poll_seconds: float | None = Field(default=None, ge=0)
    max_age_hours: float | None = Field(default=None, gt=0)

    # Checked here, not when they are used, so a typo is named with its file before any work.
    @field_validator("limits")
    @classmethod
    def _known_limits(cls, value: dict[str, int | None]) -> dict[str, int | None]:
        hint = "limits are positive integers; null leaves an optional limit unset"
        _overrides(ProviderLimits, profile_of("openai").limits, value, "limit", hint)
        return value

    @field_validator("files")
    @classmethod
    def _known_file_settings(cls, value: dict[str, int | bool | None]) -> dict[str, int | bool | None]:
        hint = f"lifetimes are seconds from {EXPIRY_RANGE[0]:,} to {EXPIRY_RANGE[1]:,}, or null to send none"
        _overrides(FilePolicy, FilePolicy(), value, "files setting", hint)
        return value

    @classmethod
    def from_yaml(cls, path: str | Path) -> ProviderConfig:
        """Load a provider YAML; errors name its own file."""
        return from_mapping(cls, load_yaml(path), str(path))

    @field_validator("queue_limits")
    @classmethod
    def _positive_queue_limits(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [f"{model}: {limit}" for model, limit in value.items() if limit <= 0]
        if bad:
            raise ValueError(f"queue limits are positive token counts ({', '.join(bad)})")
        return value

    @field_validator("tier")
    @classmethod
    def _documented_tier(cls, value: int | None) -> int | None:
        known = sorted(queue_table()["tiers"])
        if value is not None and value not in known:
            raise ValueError(f"tier {value} has no documented queue limits (known: {', '.join(map(str, known))}); "
                             "set your figures in queue_limits instead")  # fmt: skip
        return value

    @property
    def profile(self) -> Profile:
        return profile_of(self.kind)

    @property
    def address(self) -> str:
        """Where the provider is reached: its base URL or Azure endpoint ("" for OpenAI's own)."""
        return self.base_url or self.azure_endpoint or ""

    def dialect(self, *models: str | None) -> Dialect:
        """The provider's dialect; for ``models`` (a job's model, deployment or base model), with
        their queue limit as the enqueued tokens a shard may hold, so planning splits under it."""
        limits = dict(self.limits)
        queue = self.queue_limit(*models) if models else None
        if queue is not None:
            limits["max_enqueued_tokens"] = queue
        return self.profile.dialect(api_style=self.api_style, deployment=self.deployment, limits=limits,
                                    vision=self.vision, allow_embeddings=self.allow_embeddings)  # fmt: skip

    @property
    def poll_floor(self) -> float:
        """The fewest seconds between two polls of this provider."""
        return self.min_poll_seconds if self.min_poll_seconds is not None else self.profile.min_poll_seconds

    def queue_limit(self, *models: str | None) -> int | None:
        """Enqueued prompt tokens for the first of ``models`` that has a limit: from ``queue_limits``,
        then the ``tier``'s table (a dated snapshot takes its model's figure), then ``limits.max_enqueued_tokens``."""
        names = [m for m in models if m]
        for name in names:
            if name in self.queue_limits:
                return self.queue_limits[name]
        table = queue_table()["tiers"].get(self.tier, {}) if self.tier is not None else {}
        for name in names:
            family = next((m for m in table if name == m or (name.startswith(m + "-") and name[len(m) + 1 : len(m) + 2].isdigit())), None)
            if family is not None:
                return int(table[family])
        return self.limits.get("max_enqueued_tokens") or self.profile.limits.max_enqueued_tokens

    def file_policy(self) -> FilePolicy:
        """The provider's file lifetimes and deletion, with this config's ``files`` overrides."""
        return FilePolicy.model_validate(self.profile.files.model_dump() | self.files)


@cache
def queue_table() -> dict[str, Any]:
    """The documented queue limits by usage tier (``zenbatch/data/queue_limits.yaml``)."""
    table: dict[str, Any] = yaml.safe_load(resources.files("zenbatch.data").joinpath("queue_limits.yaml").read_text(encoding="utf-8"))
    return table


def _overrides(model: type[BaseModel], base: BaseModel, value: dict[str, Any], what: str, hint: str) -> BaseModel:
    """``base`` with ``value``'s fields, each known to ``model`` and valid, or a ValueError naming which is not."""
    known = list(model.model_fields)
    unknown = [key for key in value if key not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(unknown)}; remove it or fix its spelling (known: {', '.join(known)})")
    try:
        return model.model_validate(base.model_dump() | value)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{details} ({hint})") from None


METADATA_PAIRS, METADATA_KEY_CHARS, METADATA_VALUE_CHARS = 16, 64, 512  # per batch, at OpenAI and Azure


class JobConfig(BaseModel):
    """Everything needed to build, plan and price a batch job."""

    model_config = ConfigDict(extra="forbid")
    name: str = "batch"
    dataset: DatasetConfig | None = None
    template: RequestTemplate | None = None
    input_file: InputFileConfig | None = None
    provider: ProviderConfig = Field(default_factory=ProviderConfig)
    sharding: bool = True
    budget_usd: float | None = Field(default=None, ge=0)
    pricing: dict[str, Any] | None = None
    reuse: bool | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    base_dir: str = "."

    @model_validator(mode="after")
    def _rows_or_file(self) -> JobConfig:
        if (self.template is None) == (self.input_file is None):
            raise ValueError("a job needs exactly one of `template` (with a dataset of rows) or `input_file` (an existing batch file)")
        if self.input_file is not None and self.dataset is not None:
            raise ValueError("`input_file` holds the requests already: drop `dataset`")
        return self

    @model_validator(mode="after")
    def _provider_takes_it(self) -> JobConfig:
        if self.template is not None:
            refusal = self.provider.dialect().refusal(self.template.endpoint, bool(self.template.image_columns))
            if refusal:
                raise ValueError(refusal)
        return self

    @property
    def rows_template(self) -> RequestTemplate:
        """The template of a job over a dataset (a job of an existing batch file has none)."""
        if self.template is None:
            raise ConfigError("this job submits an existing batch file (input_file): it has no template or dataset rows")
        return self.template

    @field_validator("metadata")
    @classmethod
    def _metadata_fits(cls, value: dict[str, str]) -> dict[str, str]:
        """OpenAI's batch metadata limits, counting zenbatch's own keys."""
        from zenbatch.lifecycle.submit import METADATA_KEYS

        taken = [k for k in value if k in METADATA_KEYS]
        if taken:
            raise ValueError(f"{', '.join(taken)}: zenbatch sets these keys itself; name yours differently")
        if len(value) + len(METADATA_KEYS) > METADATA_PAIRS:
            raise ValueError(
                f"{len(value)} pairs, and zenbatch adds {len(METADATA_KEYS)} of its own: a batch takes at most "
                f"{METADATA_PAIRS}, so give at most {METADATA_PAIRS - len(METADATA_KEYS)}"
            )
        for key, text in value.items():
            if len(key) > METADATA_KEY_CHARS:
                raise ValueError(f"key {key[:20]!r}...: {len(key)} characters, at most {METADATA_KEY_CHARS}")
            if len(str(text)) > METADATA_VALUE_CHARS:
                raise ValueError(f"the value of {key!r}: {len(str(text))} characters, at most {METADATA_VALUE_CHARS}")
        return {k: str(v) for k, v in value.items()}

    def reuses(self, body: dict[str, Any] | None = None) -> bool:
        """Whether rows answered by an earlier job are reused: ``reuse``, else only for deterministic
        requests (temperature 0 or unset, in the template or in ``body``, a batch file's first request)."""
        if self.reuse is not None:
            return self.reuse
        parameters = self.template.parameters if self.template is not None else (body or {})
        return float(parameters.get("temperature") or 0) == 0

    def dataset_source(self) -> str | None:
        """The dataset's file or ``artifact NAME[:VERSION]``, for messages; None without a dataset."""
        if self.dataset is None:
            return None
        if self.dataset.path is not None:
            return self.dataset.path
        return f"artifact {self.dataset.artifact}" + (f":{self.dataset.version}" if self.dataset.version else "")

    @classmethod
    def from_yaml(cls, path: str | Path, provider: str | Path | None = None) -> JobConfig:
        """Load a job config; ``provider`` (or a path string under ``provider:``) names a provider YAML."""
        path = Path(path)
        data = load_yaml(path)
        data.setdefault("base_dir", str(path.resolve().parent))
        if isinstance(data.get("provider"), str) and provider is None:
            provider = Path(data["base_dir"]) / data["provider"]
        if provider is not None:  # validated on its own, so its errors name its own file
            data["provider"] = ProviderConfig.from_yaml(provider)
        return from_mapping(cls, data, str(path))

    def resolve(self, relative: str) -> Path | str:
        """A path of the config as a local path (relative to the config file), or an object-store URI as it is."""
        from zenbatch.datasets import is_uri

        if is_uri(relative):
            return relative
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate

    def price_table(self) -> PriceTable:
        return PriceTable.default().with_overrides(self.pricing)
