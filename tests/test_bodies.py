"""Request bodies checked as the provider checks them: the SDK's request types, ranges, schemas."""

from __future__ import annotations

import pytest

from tests.helpers import chat_template
from zenbatch.bodies import check_body, schema_problems

USER = [{"role": "user", "content": "hi"}]


def chat(**parameters):
    return {"model": "gpt-4o-mini", "messages": USER, **parameters}


@pytest.mark.parametrize(
    "endpoint, body",
    [
        ("/v1/chat/completions", chat(max_tokens=5, temperature=0, top_p=1, n=1, seed=3, stop=["\n"], logit_bias={"50256": -100})),
        (
            "/v1/chat/completions",
            {
                "model": "m",
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "what is this?"},
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "low"}},
                        ],
                    }
                ],
            },
        ),
        (
            "/v1/chat/completions",
            chat(
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": "a",
                        "strict": True,
                        "schema": {
                            "type": "object",
                            "properties": {"label": {"type": "string"}, "note": {"type": ["string", "null"]}},
                            "required": ["label", "note"],
                            "additionalProperties": False,
                        },
                    },
                }
            ),
        ),
        ("/v1/responses", {"model": "m", "instructions": "be brief", "input": [{"role": "user", "content": "hi"}], "max_output_tokens": 16}),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 256}),
        ("/v1/completions", {"model": "m", "prompt": "say", "max_tokens": 3, "logprobs": 2}),
        ("/v1/moderations", {"model": "omni-moderation-latest", "input": "text"}),
    ],
    ids=["chat", "chat-with-an-image", "chat-strict-schema", "responses", "embeddings", "completions", "moderations"],
)
def test_bodies_the_api_takes_pass(endpoint, body):
    assert check_body(endpoint, body) == []


@pytest.mark.parametrize(
    "body, expected",
    [
        (chat(max_tokens="ten"), "body.max_tokens: 'ten' is not valid (input should be a valid integer)"),
        (chat(temperature=7), "body.temperature: 7 is out of range; allowed from 0 to 2"),
        (chat(top_p=1.5), "body.top_p: 1.5 is out of range; allowed from 0 to 1"),
        (chat(n=0), "body.n: 0 is out of range; allowed from 1 to 128"),
        (chat(logit_bias={"1": 500}), "body.logit_bias[1]: 500 is out of range; allowed from -100 to 100"),
        (chat(max_output_tokens=5), "body.max_output_tokens: not a parameter of /v1/chat/completions; it is called max_completion_tokens there"),
        (
            {"model": "m", "messages": [{"role": "usr", "content": "hi"}]},
            "body.messages[0].role: 'usr' is not allowed; expected 'assistant' or 'developer' or 'function' or 'system' or 'tool' or 'user'",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "txt", "text": "a"}]}]},
            "body.messages[0].content[0].type: 'txt' is not allowed; expected 'file' or 'image_url' or 'input_audio' or 'text'",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "hi", "nmae": "x"}]},
            "body.messages[0].nmae: not a field here; remove it or fix its spelling",
        ),
        ({"model": "m"}, "body.messages: missing; it is required"),
    ],
    ids=["type", "temperature", "top_p", "n", "logit_bias", "renamed", "role", "content-part-type", "message-field", "missing"],
)
def test_each_problem_names_the_parameter_the_value_and_what_is_allowed(body, expected):
    assert check_body("/v1/chat/completions", body) == [expected]


def test_a_misspelt_parameter_points_at_extra_parameters_and_those_pass_unchecked():
    problems = check_body("/v1/chat/completions", chat(max_tokenz=5))
    assert problems == [
        "body.max_tokenz: not a parameter of /v1/chat/completions in the installed openai SDK; fix its spelling, or, if "
        "the API takes it and the SDK is older, move it under extra_parameters: (sent unchecked)"
    ]
    assert check_body("/v1/chat/completions", chat(brand_new_knob={"a": 1}), unchecked=["brand_new_knob"]) == []


def test_every_problem_of_a_body_is_named_at_once():
    problems = check_body("/v1/chat/completions", chat(max_tokens="ten", temperature=9, max_tokenz=1))
    assert [p.split(":")[0] for p in problems] == ["body.max_tokens", "body.max_tokenz", "body.temperature"]


@pytest.mark.parametrize(
    "schema, strict, expected",
    [
        ({"type": "objekt"}, False, "s.type: 'objekt' is not a valid JSON Schema value"),
        ({"type": "object", "properties": {"a": {"type": "string", "minLength": -1}}}, False, "s.properties.a.minLength: -1"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
            True,
            "s: strict mode needs every property required; add a to required",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}},
                "required": ["a"],
                "additionalProperties": False,
            },
            True,
            "s.properties.a: strict mode needs additionalProperties: false on every object",
        ),
        (
            {
                "type": "object",
                "properties": {"xs": {"type": "array", "items": {"type": "object", "properties": {}}}},
                "required": ["xs"],
                "additionalProperties": False,
            },
            True,
            "s.properties.xs.items: strict mode needs additionalProperties: false",
        ),
    ],
    ids=["meta-schema-type", "meta-schema-bound", "strict-required", "strict-nested-object", "strict-array-items"],
)
def test_schemas_are_checked_against_the_meta_schema_and_strict_mode(schema, strict, expected):
    problems = schema_problems(schema, "s", strict=strict)
    assert problems and problems[0].startswith(expected), problems


def test_a_template_names_its_own_keys_and_sends_extra_parameters_as_they_are():
    with pytest.raises(ValueError, match=r"parameters\.temperature: 3 is out of range; allowed from 0 to 2"):
        chat_template(parameters={"max_tokens": 5, "temperature": 3})
    with pytest.raises(ValueError, match=r"json_schema\.schema: strict mode needs additionalProperties: false"):
        chat_template(json_schema={"name": "a", "schema": {"type": "object"}})
    template = chat_template(extra_parameters={"brand_new_knob": True})
    assert template.body("gpt-4o-mini", "row text")["brand_new_knob"] is True
    with pytest.raises(ValueError, match="extra_parameters.max_tokens is set elsewhere"):
        chat_template(extra_parameters={"max_tokens": 3})


def test_a_body_shaped_like_one_that_passed_is_still_checked_where_it_differs():
    """Bodies of one shape are checked once; only free texts are blanked in the shape."""
    for text in ("first row", "a second, much longer row of text than the first one was"):
        assert check_body("/v1/chat/completions", chat(max_tokens=5) | {"messages": [{"role": "user", "content": text}]}) == []
    assert check_body("/v1/chat/completions", {"model": "m", "messages": [{"role": "usr", "content": "first row"}]})
    assert check_body("/v1/chat/completions", chat(max_tokens=6, temperature=3))
    assert check_body("/v1/chat/completions", chat(max_tokens=5) | {"messages": [{"role": "user", "content": 5}]})
