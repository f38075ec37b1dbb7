import orjson
import pytest

from zenbatch.batchfile import read_batch_file
from zenbatch.errors import DatasetError, InputValidationError


def write(path, records):
    path.write_bytes(b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records))
    return path


def line(cid, url="/v1/chat/completions", model="gpt-4o-mini", **body):
    return {"custom_id": cid, "method": "POST", "url": url, "body": {"model": model, "messages": [{"role": "user", "content": "hi"}], **body}}


def test_valid_file_streams_chunks_with_tokens(tmp_path):
    path = write(tmp_path / "in.jsonl", [line(f"c{i}", max_tokens=5) for i in range(5)])
    chunks = list(read_batch_file(path, chunk_lines=2))
    assert [len(c.lines) for c in chunks] == [2, 2, 1]
    assert chunks[0].prompt_tokens[0] == 8 and chunks[0].output_tokens[0] == 5


def test_every_bad_line_is_named(tmp_path):
    path = write(tmp_path / "in.jsonl", [
        line("a"), b"{not json", line("a"), line("b", url="/v1/embeddings"), line("c", model="gpt-4o"),
        line("d", stream=True), {"custom_id": "e", "method": "GET", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini"}},
        {"method": "POST"},
    ])  # fmt: skip
    with pytest.raises(InputValidationError) as info:
        list(read_batch_file(path))
    found = {(p.line, p.code) for p in info.value.problems}
    assert found == {
        (2, "invalid_json_line"), (3, "duplicate_custom_id"), (4, "url_mismatch"), (5, "model_mismatch"),
        (4, "invalid_request"),  # a chat body sent to /v1/embeddings: no input, and messages is not its parameter
        (6, "invalid_request"), (7, "invalid_request"), (8, "missing_custom_id"),
    }  # fmt: skip
    assert "in.jsonl" in str(info.value)


def test_every_body_is_checked_as_the_provider_checks_it_with_its_line_and_custom_id(tmp_path):
    path = write(tmp_path / "in.jsonl", [
        line("ok", max_tokens=5), line("hot", temperature=7), line("typo", max_tokenz=5), line("new", brand_new_knob=1),
    ])  # fmt: skip
    with pytest.raises(InputValidationError) as info:
        list(read_batch_file(path))
    found = {(p.line, p.custom_id, p.message.split(":")[0]) for p in info.value.problems}
    assert found == {(2, "hot", "body.temperature"), (3, "typo", "body.max_tokenz"), (4, "new", "body.brand_new_knob")}
    assert "allowed from 0 to 2" in str(info.value) and "extra_parameters" in str(info.value)
    with pytest.raises(InputValidationError) as info:
        list(read_batch_file(path, unchecked=["brand_new_knob"]))  # the job's input_file.extra_parameters
    assert {p.custom_id for p in info.value.problems} == {"hot", "typo"}


def test_what_azure_refuses_is_named_before_upload(tmp_path):
    from zenbatch.providers import azure

    dialect = azure.PROFILE.dialect(deployment="d", api_style="v1")
    image = [{"type": "text", "text": "what is it?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]
    chats = write(tmp_path / "chat.jsonl", [line("a", model="d"), line("b", model="d", messages=[{"role": "user", "content": image}])])
    with pytest.raises(InputValidationError) as info:
        list(read_batch_file(chats, dialect=dialect))
    assert [(p.line, p.code) for p in info.value.problems] == [(2, "refused_by_provider")]
    assert "vision: true" in info.value.problems[0].message
    assert list(read_batch_file(chats, dialect=azure.PROFILE.dialect(deployment="d", api_style="v1", vision=True)))

    embeddings = [{"custom_id": f"e{i}", "method": "POST", "url": "/v1/embeddings", "body": {"model": "d", "input": "x"}} for i in range(3)]
    with pytest.raises(InputValidationError) as info:
        list(read_batch_file(write(tmp_path / "emb.jsonl", embeddings), dialect=dialect))
    assert [(p.line, p.code) for p in info.value.problems] == [(1, "refused_by_provider")]  # said once for the file
    assert list(read_batch_file(tmp_path / "emb.jsonl", dialect=azure.PROFILE.dialect(deployment="d", api_style="v1",
                                                                                       allow_embeddings=True)))  # fmt: skip


def test_empty_and_non_jsonl_files_are_refused(tmp_path):
    with pytest.raises(InputValidationError, match="no request lines"):
        list(read_batch_file(write(tmp_path / "e.jsonl", [])))
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(DatasetError, match="must be .jsonl"):
        list(read_batch_file(tmp_path / "x.json"))
