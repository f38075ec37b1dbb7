"""Request templates: what each request of a batch asks, defined in YAML or in Python.

A template names the endpoint, the model, a system prompt, a user template with
``{column}`` placeholders, optional few-shot messages, generation parameters, a JSON schema
for structured answers, image columns for multimodal chat, or a text column for embeddings.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from zenbatch.errors import ConfigError
from zenbatch.yaml_config import from_mapping, load_yaml

Endpoint = Literal["/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/completions"]
ENDPOINTS: tuple[str, ...] = get_args(Endpoint)


def canonical_endpoint(url: str) -> str:
    """``/chat/completions`` (Azure's older line url) and ``/v1/chat/completions`` name the same endpoint."""
    return url if url.startswith("/v1/") else "/v1" + url


_SAMPLE_PAYLOAD = "x"  # a row's text: the rest of every body is the template's own, so one check covers all rows


class FewShotMessage(BaseModel):
    """One example message placed between the system prompt and the row's message."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant", "system", "developer"]
    content: str


class JsonSchemaFormat(BaseModel):
    """A JSON schema the answer must follow (structured outputs)."""

    # Dumped as `schema`, the key users write, so a job travelling as a step parameter loads again.
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True)
    name: str = "answer"
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool = True

    @field_validator("name")
    @classmethod
    def _name_is_safe(cls, value: str) -> str:
        if not value or len(value) > 64 or not all(c.isalnum() or c in "_-" for c in value):
            raise ValueError("json_schema.name must be 1-64 characters of a-z, A-Z, 0-9, _ or -")
        return value


class ImageColumn(BaseModel):
    """A column whose values are image URLs or local image files (sent as data URLs)."""

    model_config = ConfigDict(extra="forbid")
    column: str
    detail: Literal["auto", "low", "high"] = "auto"


class RequestTemplate(BaseModel):
    """How one dataset row becomes one request body.

    Attributes:
        endpoint: the batch endpoint every request targets.
        model: the model (OpenAI) or the batch deployment name (Azure).
        base_model: the underlying OpenAI model, for token counting and prices, when
            ``model`` is a deployment or local name. Defaults to ``model``.
        system_prompt: the system message (``instructions`` on /v1/responses).
        user_template: the row's message, ``{column}`` placeholders filled from the row.
        text_column: for embeddings, the column embedded as is.
        few_shot: example messages between the system prompt and the row's message.
        parameters: generation parameters copied into every body (max_tokens, temperature...),
            checked as the provider checks them (see :mod:`zenbatch.bodies`).
        extra_parameters: parameters newer than the installed openai SDK, copied into every body
            as they are, unchecked.
        json_schema: a schema the answer must follow; sets ``response_format``.
        image_columns: image columns appended to the user message (chat only).
        id_column: the column giving each row's custom_id; a content hash when unset.
        expected_output_tokens: output tokens to expect per request for the estimate, when
            ``max_tokens`` overstates them.
        image_root: where relative image paths are found; the dataset's folder when unset.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    endpoint: Endpoint = "/v1/chat/completions"
    model: str
    base_model: str | None = None
    system_prompt: str | None = None
    user_template: str | None = None
    text_column: str | None = None
    few_shot: list[FewShotMessage] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    extra_parameters: dict[str, Any] = Field(default_factory=dict)
    json_schema: JsonSchemaFormat | None = None
    image_columns: list[ImageColumn] = Field(default_factory=list)
    id_column: str | None = None
    expected_output_tokens: int | None = Field(default=None, ge=0)
    image_root: str | None = None

    @field_validator("image_columns", mode="before")
    @classmethod
    def _image_column_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"column": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _fits_endpoint(self) -> RequestTemplate:
        if self.parameters.get("stream"):
            raise ValueError("parameters.stream: batch requests cannot stream; remove it")
        for key in ("model", "messages", "input", "prompt"):
            if key in self.parameters:
                raise ValueError(f"parameters.{key} is set by the template itself; remove it")
        if self.endpoint == "/v1/embeddings":
            if not self.text_column:
                raise ValueError("an /v1/embeddings template needs text_column: the column to embed")
            if self.user_template or self.system_prompt or self.few_shot or self.image_columns:
                raise ValueError("an /v1/embeddings template takes only text_column, not prompts or images")
            if self.json_schema:
                raise ValueError("json_schema does not apply to /v1/embeddings")
        else:
            if not self.user_template:
                raise ValueError(f"a {self.endpoint} template needs user_template, e.g. 'Classify: {{text}}'")
            try:
                template_fields(self.user_template)
            except ConfigError as exc:  # a ValueError, so the config's loader names the file and key
                raise ValueError(str(exc)) from None
            if self.text_column:
                raise ValueError("text_column is for /v1/embeddings; use {column} in user_template")
        if self.image_columns and self.endpoint not in ("/v1/chat/completions", "/v1/responses"):
            raise ValueError("image_columns need /v1/chat/completions or /v1/responses")
        if self.json_schema and self.endpoint == "/v1/completions":
            raise ValueError("json_schema needs /v1/chat/completions or /v1/responses")
        self._check_body()
        return self

    def _check_body(self) -> None:
        """The body every row gets, checked the way the provider checks it; each problem named by its key here."""
        from zenbatch.bodies import check_body

        clash = [k for k in self.extra_parameters if k in self.parameters or k in ("model", "messages", "input", "prompt")]
        if clash:
            raise ValueError(f"extra_parameters.{clash[0]} is set elsewhere (in parameters or by the template); keep one")
        problems = check_body(self.endpoint, self.body(self.model, _SAMPLE_PAYLOAD), unchecked=self.extra_parameters)
        renamed = []
        for problem in problems:
            for key in self.parameters:
                if problem.startswith((f"body.{key}:", f"body.{key}.", f"body.{key}[")):
                    problem = "parameters" + problem.removeprefix("body")
            for built in ("body.response_format.json_schema.schema", "body.text.format.schema"):
                if self.json_schema and problem.startswith(built):
                    problem = "json_schema.schema" + problem.removeprefix(built)
            renamed.append(problem)
        if renamed:
            raise ValueError("; ".join(renamed))

    def body(self, model: str, payload: Any) -> dict[str, Any]:
        """The request body of one row: ``payload`` is its text (or its content parts with images)."""
        params = {**self.parameters, **self.extra_parameters}
        endpoint = self.endpoint
        if endpoint == "/v1/embeddings":
            return {"model": model, "input": payload, **params}
        if endpoint == "/v1/completions":
            return {"model": model, "prompt": payload, **params}
        examples = [{"role": m.role, "content": m.content} for m in self.few_shot]
        user = {"role": "user", "content": payload}
        if endpoint == "/v1/responses":
            body: dict[str, Any] = {"model": model}
            if self.system_prompt:
                body["instructions"] = self.system_prompt
            body["input"] = [*examples, user]
            if self.json_schema:
                schema = self.json_schema
                body["text"] = {"format": {"type": "json_schema", "name": schema.name, "schema": schema.schema_, "strict": schema.strict}}
            return {**body, **params}
        messages = ([{"role": "system", "content": self.system_prompt}] if self.system_prompt else []) + examples
        body = {"model": model, "messages": [*messages, user], **params}
        if self.json_schema:
            schema = self.json_schema
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": schema.schema_, "strict": schema.strict},
            }
        return body

    @property
    def pricing_model(self) -> str:
        """The model whose tokenizer and prices apply."""
        return self.base_model or self.model

    @property
    def is_structured(self) -> bool:
        return self.json_schema is not None or (
            isinstance(self.parameters.get("response_format"), dict)
            and self.parameters["response_format"].get("type") in ("json_object", "json_schema")
        )

    def columns(self) -> list[str]:
        """Every dataset column the template reads, in a stable order."""
        names: list[str] = []
        if self.user_template:
            names.extend(template_fields(self.user_template))
        if self.text_column:
            names.append(self.text_column)
        names.extend(image.column for image in self.image_columns)
        return list(dict.fromkeys(names))

    def output_tokens_per_request(self) -> int:
        """Output tokens to expect per request for an estimate."""
        if self.endpoint == "/v1/embeddings":
            return 0
        if self.expected_output_tokens is not None:
            return self.expected_output_tokens
        for key in ("max_completion_tokens", "max_tokens", "max_output_tokens"):
            if isinstance(value := self.parameters.get(key), int):
                return value
        # Without a cap the reply length is unknown; assume a short answer and say so.
        return DEFAULT_OUTPUT_TOKENS

    @classmethod
    def from_yaml(cls, path: str | Path) -> RequestTemplate:
        data = load_yaml(path)
        data = data.get("template", data)
        return from_mapping(cls, data, str(path))


DEFAULT_OUTPUT_TOKENS = 256


def template_fields(template: str) -> list[str]:
    """The column names a ``{column}`` template uses; raises ConfigError if malformed."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(f"user_template {template!r} is malformed ({exc}); write literal braces as {{{{ and }}}}") from exc
    names = []
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field or field.isdigit() or any(c in field for c in ".[]"):
            raise ConfigError(f"user_template placeholder {{{field}}} must name a column, e.g. {{text}}; write literal braces as {{{{ and }}}}")
        if spec or conversion:
            raise ConfigError(f"user_template placeholder {{{field}}} cannot carry a format spec or conversion")
        names.append(field)
    return names
