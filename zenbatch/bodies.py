"""Request bodies checked the way the provider checks them, before anything is written or paid for.

Each endpoint's body is checked against the request type the installed ``openai`` SDK ships for
it (its ``*_create_params`` TypedDicts): unknown parameters, wrong types and values outside a
literal's choices are found without a hand-written list. On top come the ranges the API
documents (``temperature`` 0 to 2, ``n`` at least 1...) and, for a ``json_schema`` answer
format, the JSON Schema meta-schema and OpenAI's strict-mode rules.

Parameters newer than the installed SDK go under ``extra_parameters``: sent as they are, unchecked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cache
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

# The documented ranges of numeric parameters: (low, high), None for no bound.
RANGES: dict[str, tuple[float | None, float | None]] = {
    "temperature": (0, 2),
    "top_p": (0, 1),
    "n": (1, 128),
    "presence_penalty": (-2, 2),
    "frequency_penalty": (-2, 2),
    "max_tokens": (1, None),
    "max_completion_tokens": (1, None),
    "max_output_tokens": (16, None),
    "top_logprobs": (0, 20),
    "logprobs": (0, 5),  # /v1/completions: an integer there
    "best_of": (1, 20),
    "dimensions": (1, None),
}


# Parameters that go by another name on another endpoint.
RENAMED = {
    ("/v1/responses", "max_tokens"): "max_output_tokens",
    ("/v1/responses", "max_completion_tokens"): "max_output_tokens",
    ("/v1/responses", "response_format"): "text.format",
    ("/v1/chat/completions", "max_output_tokens"): "max_completion_tokens",
    ("/v1/completions", "max_completion_tokens"): "max_tokens",
}


def _request_type(endpoint: str) -> Any:
    from openai.types import completion_create_params, embedding_create_params, moderation_create_params
    from openai.types.chat import completion_create_params as chat_create_params
    from openai.types.responses import response_create_params

    return {
        "/v1/chat/completions": chat_create_params.CompletionCreateParamsNonStreaming,
        "/v1/completions": completion_create_params.CompletionCreateParamsNonStreaming,
        "/v1/embeddings": embedding_create_params.EmbeddingCreateParams,
        "/v1/responses": response_create_params.ResponseCreateParamsNonStreaming,
        "/v1/moderations": moderation_create_params.ModerationCreateParams,
    }.get(endpoint)


@cache
def _validator(endpoint: str) -> SchemaValidator | None:
    """The SDK's request type as a strict validator: no unknown keys, lists checked item by item."""
    request_type = _request_type(endpoint)
    if request_type is None:
        return None
    schema = copy.deepcopy(TypeAdapter(request_type).core_schema)

    def tighten(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "typed-dict":
                node["extra_behavior"] = "forbid"
            if node.get("type") == "generator":  # Iterable[...] would be checked lazily, i.e. never
                node["type"] = "list"
            for value in node.values():
                tighten(value)
        elif isinstance(node, list):
            for value in node:
                tighten(value)

    tighten(schema)
    return SchemaValidator(schema)


def check_body(endpoint: str, body: dict[str, Any], *, where: str = "body", unchecked: Iterable[str] = ()) -> list[str]:
    """Every problem of a request body for ``endpoint``, each naming the parameter, the value and what is allowed.

    Args:
        where: how messages name the body's keys (``parameters`` for a template, ``body`` for a line).
        unchecked: top-level keys passed through as they are (``extra_parameters``).
    """
    skipped = set(unchecked)
    body = {k: v for k, v in body.items() if k not in skipped}
    key = orjson.dumps([endpoint, where, {k: _shape(v, k) if k in PROMPT_KEYS else v for k, v in body.items()}])
    if key in _PASSED:
        return []
    problems: list[str] = []
    validator = _validator(endpoint)
    if validator is not None:
        try:
            validator.validate_python(body, strict=True)
        except ValidationError as exc:
            problems.extend(_explain(exc.errors(), body, endpoint, where))
    named = {problem.split(":")[0] for problem in problems}  # a key the endpoint does not take has no range
    problems.extend(p for p in _ranges(body, where) if p.split(":")[0] not in named)
    problems.extend(_schemas(body, where))
    if not problems:
        if len(_PASSED) >= _PASSED_MAX:
            _PASSED.clear()
        _PASSED.add(key)
    return list(dict.fromkeys(problems))


# Bodies that passed, by shape: the body with the free texts of its prompt blanked (a row's
# content, a prompt, an image's data). A free text is accepted wherever a string is; what the
# check reads (roles, types, choices, numbers, schemas) is kept, so a body of a shape that passed
# passes too. Only the prompt's keys are walked: the parameters (a schema, tools) go as they are.
_PASSED: set[bytes] = set()
_PASSED_MAX = 100_000
PROMPT_KEYS = frozenset({"messages", "input", "prompt", "instructions"})
TEXT_KEYS = frozenset({"content", "text", "url", "data", "file_data", "input", "prompt", "instructions", "arguments", "refusal"})


def _shape(value: Any, key: str | None = None) -> Any:
    if isinstance(value, str):
        return "" if key in TEXT_KEYS else value
    if isinstance(value, dict):
        return {k: _shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v, key) for v in value]
    return value


# making the SDK's errors readable ---------------------------------------------------------------


def _explain(errors: list[Any], body: dict[str, Any], endpoint: str, where: str) -> list[str]:
    """One message per problem: of a union, only the branch the value meant (its ``role`` or ``type``)."""
    located = [(_path(e["loc"], body), e) for e in errors]
    return [_message(path, error, body, endpoint, where) for path, error in _branch(located)]


def _path(loc: tuple[Any, ...], body: Any) -> tuple[tuple[Any, ...], tuple[tuple[int, str], ...]]:
    """The loc's keys into the body, and the union branches (tags) it went through, by depth."""
    path: list[Any] = []
    tags: list[tuple[int, str]] = []
    current = body
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if (isinstance(current, dict) and part in current) or (isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)):
            current = current[part]
            path.append(part)
        elif last and isinstance(current, dict):  # a missing or unknown key
            path.append(part)
        else:
            tags.append((len(path), str(part)))
    return tuple(path), tuple(tags)


def _branch(located: list[Any]) -> list[Any]:
    """Keep, at every union, the errors of the branch that fits best: the one that matched deepest into
    the value, whose ``role``/``type`` matched, with the fewest errors; when none matched, the choices."""
    while True:
        tagged = [item for item in located if item[0][1]]
        if not tagged:
            return [(path, error) for (path, _), error in located]
        depth, _ = min(tags[0] for (_, tags), _ in tagged)
        key = min(path[:depth] for (path, tags), _ in tagged if tags[0][0] == depth)
        at_union = [item for item in tagged if item[0][1][0][0] == depth and item[0][0][:depth] == key]
        branches: dict[str, list[Any]] = {}
        for item in at_union:
            branches.setdefault(item[0][1][0][1], []).append(item)

        def score(branch: list[Any], depth: int = depth) -> tuple[int, bool, int]:  # deepest match, discriminator matched, fewest
            return max(len(path) for (path, _), _ in branch), not _mismatched(branch, depth), -len(branch)

        best = max(branches.values(), key=score)
        if not _mismatched(best, depth):
            chosen = best
        else:  # no branch matched its discriminator (role, type): say what it may be, once
            literals = [item for b in branches.values() for item in b if item[1]["type"] == "literal_error"]
            expected = sorted({str(item[1].get("ctx", {}).get("expected", "")) for item in literals})
            first = literals[0]
            merged = {**first[1], "ctx": {"expected": " or ".join(e for e in expected if e)}}
            chosen = [(first[0], merged)]
        rest = [item for item in located if item not in at_union]
        located = rest + [((path, tags[1:]), error) for (path, tags), error in chosen]


def _mismatched(branch: list[Any], depth: int) -> bool:
    """The branch's own discriminator (a literal field of the value at ``depth``) did not match."""
    return any(e["type"] == "literal_error" and len(path) <= depth + 1 for (path, _), e in branch)


def _message(path: tuple[Any, ...], error: Any, body: dict[str, Any], endpoint: str, where: str) -> str:
    name = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    kind = error["type"]
    if kind == "extra_forbidden":
        if len(path) == 1 and (endpoint, path[0]) in RENAMED:
            return f"{name}: not a parameter of {endpoint}; it is called {RENAMED[endpoint, path[0]]} there"
        if len(path) == 1:
            return (
                f"{name}: not a parameter of {endpoint} in the installed openai SDK; fix its spelling, or, if the API "
                "takes it and the SDK is older, move it under extra_parameters: (sent unchecked)"
            )
        return f"{name}: not a field here; remove it or fix its spelling"
    if kind == "missing":
        return f"{name}: missing; it is required"
    value = _value_at(body, path)
    if kind == "literal_error":
        return f"{name}: {value!r} is not allowed; expected {error.get('ctx', {}).get('expected', 'another value')}"
    return f"{name}: {value!r} is not valid ({error['msg'][0].lower() + error['msg'][1:]})"


def _value_at(body: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        try:
            body = body[part]
        except (KeyError, IndexError, TypeError):
            return None
    return body


# documented ranges ------------------------------------------------------------------------------


def _ranges(body: dict[str, Any], where: str) -> list[str]:
    problems = []
    for key, (low, high) in RANGES.items():
        value = body.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            allowed = f"from {low} to {high}" if high is not None else f"at least {low}"
            problems.append(f"{where}.{key}: {value!r} is out of range; allowed {allowed}")
    bias = body.get("logit_bias")
    if isinstance(bias, dict):
        for token, value in bias.items():
            if isinstance(value, int | float) and not -100 <= value <= 100:
                problems.append(f"{where}.logit_bias[{token}]: {value!r} is out of range; allowed from -100 to 100")
    return problems


# JSON schemas of the answer ---------------------------------------------------------------------


def _schemas(body: dict[str, Any], where: str) -> list[str]:
    """The answer's JSON schema, where the body carries one (chat ``response_format``, responses ``text.format``)."""
    found = []
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        inner = response_format.get("json_schema")
        if isinstance(inner, dict):
            found.append((f"{where}.response_format.json_schema.schema", inner.get("schema"), inner.get("strict")))
    text = body.get("text")
    if isinstance(text, dict) and isinstance(text.get("format"), dict) and text["format"].get("type") == "json_schema":
        found.append((f"{where}.text.format.schema", text["format"].get("schema"), text["format"].get("strict")))
    problems = []
    for name, schema, strict in found:
        if isinstance(schema, dict):
            problems.extend(schema_problems(schema, name, strict=bool(strict)))
    return problems


def schema_problems(schema: dict[str, Any], name: str = "schema", *, strict: bool = False) -> list[str]:
    """Problems of a JSON schema: against the meta-schema, and OpenAI's strict-mode rules when ``strict``."""
    from jsonschema import Draft202012Validator

    problems = []
    for error in sorted(Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema), key=lambda e: list(e.path)):
        at = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        problems.append(f"{name}{at}: {error.instance!r} is not a valid JSON Schema value ({error.message})")
    if strict and not problems:
        problems.extend(_strict_problems(schema, name))
    return problems


def _strict_problems(node: Any, name: str) -> list[str]:
    """OpenAI's strict mode: every object lists all its properties as required and sets additionalProperties: false."""
    if not isinstance(node, dict):
        return []
    problems = []
    if node.get("type") == "object" or "properties" in node:
        properties = list((node.get("properties") or {}).keys())
        missing = [p for p in properties if p not in (node.get("required") or [])]
        if missing:
            problems.append(
                f"{name}: strict mode needs every property required; add {', '.join(missing)} to required "
                "(make a property optional with a null type instead), or set strict: false"
            )
        if node.get("additionalProperties") is not False:
            problems.append(f"{name}: strict mode needs additionalProperties: false on every object, or set strict: false")
    for key in ("properties", "$defs", "definitions"):
        for child, sub in (node.get(key) or {}).items():
            problems.extend(_strict_problems(sub, f"{name}.{key}.{child}"))
    for key in ("items", "not"):
        problems.extend(_strict_problems(node.get(key), f"{name}.{key}"))
    for key in ("anyOf", "allOf", "oneOf"):
        for i, sub in enumerate(node.get(key) or []):
            problems.extend(_strict_problems(sub, f"{name}.{key}[{i}]"))
    return problems
