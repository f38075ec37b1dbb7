import pytest

from tests.helpers import chat_template
from zenbatch.errors import ConfigError
from zenbatch.templates import RequestTemplate, template_fields


def test_template_lists_the_columns_it_reads():
    template = chat_template(user_template="{title}: {text} ({title})", image_columns=["photo"])
    assert template.columns() == ["title", "text", "photo"]


def test_yaml_template_loads_with_schema_and_few_shot(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "template:\n  model: gpt-4o\n  user_template: 'Q: {q}'\n"
        "  few_shot: [{role: user, content: 'Q: 1+1'}, {role: assistant, content: '2'}]\n"
        "  json_schema: {name: answer, schema: {type: object, properties: {a: {type: string}}, required: [a], additionalProperties: false}}\n"
    )
    template = RequestTemplate.from_yaml(path)
    assert template.json_schema.schema_["type"] == "object"
    assert [m.role for m in template.few_shot] == ["user", "assistant"]
    assert template.is_structured


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"parameters": {"stream": True}}, "cannot stream"),
        ({"parameters": {"messages": []}}, "parameters.messages"),
        ({"endpoint": "/v1/embeddings"}, "text_column"),
        ({"user_template": None}, "needs user_template"),
        ({"endpoint": "/v1/completions", "image_columns": ["img"]}, "image_columns need"),
    ],
)
def test_template_refuses_what_cannot_work(overrides, fragment, tmp_path):
    path = tmp_path / "bad.yaml"
    import yaml

    data = {"model": "gpt-4o-mini", "user_template": "{text}", **overrides}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        RequestTemplate.from_yaml(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("bad", ["{}", "{0}", "{a.b}", "{a!r}", "{a:>10}", "{unclosed"])
def test_malformed_placeholders_are_refused(bad):
    with pytest.raises(ConfigError):
        template_fields(bad)


def test_literal_braces_are_kept():
    assert template_fields('JSON like {{"a": 1}} for {text}') == ["text"]


def test_output_tokens_from_max_tokens_or_expectation():
    assert chat_template().output_tokens_per_request() == 10
    assert chat_template(expected_output_tokens=3).output_tokens_per_request() == 3
    embed = RequestTemplate(model="text-embedding-3-small", endpoint="/v1/embeddings", text_column="t")
    assert embed.output_tokens_per_request() == 0
