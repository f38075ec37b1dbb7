import base64

import orjson
import pandas as pd
import pytest

from tests.helpers import chat_template, reviews
from zenbatch.errors import InputValidationError
from zenbatch.providers import azure
from zenbatch.requests import build_requests
from zenbatch.templates import RequestTemplate

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def lines_of(request_set):
    return [orjson.loads(line) for chunk in request_set.iter_chunks(chunk_rows=2) for line in chunk.lines]


def test_chat_lines_carry_system_few_shot_user_and_parameters():
    template = chat_template(id_column="id", few_shot=[{"role": "user", "content": "ex"}, {"role": "assistant", "content": "pos"}])
    lines = lines_of(build_requests(reviews(3), template))
    assert [line["custom_id"] for line in lines] == ["r0", "r1", "r2"]
    first = lines[0]
    assert first["method"] == "POST" and first["url"] == "/v1/chat/completions"
    assert first["body"] == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Label the sentiment."},
            {"role": "user", "content": "ex"},
            {"role": "assistant", "content": "pos"},
            {"role": "user", "content": "Review: review number 0"},
        ],
        "max_tokens": 10,
    }


def test_text_is_json_escaped_exactly():
    tricky = 'quote " backslash \\ newline \n tab \t unicode é 🙂 and {braces}'
    frame = pd.DataFrame({"text": [tricky]})
    line = lines_of(build_requests(frame, chat_template(user_template="{text}")))[0]
    assert line["body"]["messages"][-1]["content"] == tricky


def test_json_schema_becomes_response_format():
    schema = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"], "additionalProperties": False}
    template = chat_template(json_schema={"name": "label", "schema": schema})
    body = lines_of(build_requests(reviews(1), template))[0]["body"]
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "label", "schema": schema, "strict": True}}


def test_azure_dialect_writes_the_deployment_and_its_url_style():
    legacy = azure.PROFILE.dialect(deployment="my-batch-deploy")
    body_line = lines_of(build_requests(reviews(1), chat_template(), legacy))[0]
    assert body_line["url"] == "/chat/completions"
    assert body_line["body"]["model"] == "my-batch-deploy"
    v1 = azure.PROFILE.dialect(deployment="d", api_style="v1")
    assert lines_of(build_requests(reviews(1), chat_template(), v1))[0]["url"] == "/v1/chat/completions"
    assert legacy.batch_endpoint("/v1/chat/completions") == "/chat/completions"
    assert legacy.limits.max_requests == 100_000


def test_embeddings_responses_and_completions_bodies():
    frame = reviews(1)
    embed = RequestTemplate(model="text-embedding-3-small", endpoint="/v1/embeddings", text_column="text")
    assert lines_of(build_requests(frame, embed))[0]["body"] == {"model": "text-embedding-3-small", "input": "review number 0"}
    schema = {"name": "a", "schema": {"type": "object", "additionalProperties": False}}
    responses = chat_template(endpoint="/v1/responses", parameters={"max_output_tokens": 16}, json_schema=schema)
    body = lines_of(build_requests(frame, responses))[0]["body"]
    assert body["instructions"] == "Label the sentiment."
    assert body["input"] == [{"role": "user", "content": "Review: review number 0"}]
    assert body["text"]["format"]["type"] == "json_schema"
    completions = chat_template(endpoint="/v1/completions")  # max_tokens: the same name there
    assert lines_of(build_requests(frame, completions))[0]["body"]["prompt"] == "Label the sentiment.\n\nReview: review number 0"


def test_image_columns_send_urls_and_local_files_as_data_urls(tmp_path):
    (tmp_path / "cat.png").write_bytes(PNG)
    frame = pd.DataFrame({"text": ["a", "b"], "img": ["cat.png", "https://example.com/dog.jpg"]})
    template = chat_template(image_columns=[{"column": "img", "detail": "low"}])
    lines = lines_of(build_requests(frame, template, image_root=tmp_path))
    parts = lines[0]["body"]["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": "Review: a"}
    assert parts[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert parts[1]["image_url"]["detail"] == "low"
    assert lines[1]["body"]["messages"][-1]["content"][1]["image_url"]["url"] == "https://example.com/dog.jpg"


def test_every_problem_is_reported_at_once_with_rows_and_columns(tmp_path):
    (tmp_path / "fake.png").write_bytes(b"not an image")
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "a", "d", "e", "f"],
            "text": ["ok", float("nan"), "  ", {"x": 1}, "ok", "ok"],
            "img": ["https://x/1.png", "https://x/2.png", "https://x/3.png", "https://x/4.png", "missing.png", "fake.png"],
        }
    )
    template = chat_template(id_column="id", image_columns=["img"])
    with pytest.raises(InputValidationError) as info:
        build_requests(frame, template, source="data.csv", image_root=tmp_path)
    found = {(p.code, p.row) for p in info.value.problems}
    assert found == {
        ("missing_value", 1), ("empty_value", 2), ("not_a_string", 3),
        ("bad_image", 4), ("bad_image", 5), ("duplicate_custom_id", 2),
    }  # fmt: skip
    message = str(info.value)
    assert "data.csv" in message and "row 3" in message and "nothing was written" in message
    assert "does not exist" in message and "not a valid image/png" in message


def test_missing_columns_are_named_with_what_exists():
    with pytest.raises(InputValidationError) as info:
        build_requests(pd.DataFrame({"body": ["x"]}), chat_template(id_column="key"))
    problems = info.value.problems
    assert {p.column for p in problems} == {"text", "key"}
    assert "it has: body" in problems[0].message


def test_numbers_fill_placeholders_but_embedding_text_must_be_a_string():
    frame = pd.DataFrame({"text": ["a"], "n": [3]})
    line = lines_of(build_requests(frame, chat_template(user_template="{text} x{n}")))[0]
    assert line["body"]["messages"][-1]["content"] == "a x3"
    embed = RequestTemplate(model="text-embedding-3-small", endpoint="/v1/embeddings", text_column="n")
    with pytest.raises(InputValidationError, match="not a string"):
        build_requests(frame, embed)


def test_empty_dataset_is_refused():
    with pytest.raises(InputValidationError, match="no rows"):
        build_requests(reviews(0), chat_template())
