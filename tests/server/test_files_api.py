"""The Files API as the openai SDK sees it: upload, retrieve, list, content, delete, refusals."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai.types import FileDeleted, FileObject

from tests.server.conftest import openai_client
from tests.server.kit import chat_file


def test_upload_retrieve_and_download_round_trip(client):
    content = chat_file(3)
    uploaded = client.files.create(file=("requests.jsonl", content), purpose="batch")

    assert isinstance(uploaded, FileObject)
    assert uploaded.id.startswith("file-") and uploaded.bytes == len(content)
    assert uploaded.filename == "requests.jsonl" and uploaded.purpose == "batch" and uploaded.created_at > 0
    assert client.files.retrieve(uploaded.id) == uploaded
    assert client.files.content(uploaded.id).content == content


def test_upload_with_expiry_sets_expires_at(client):
    uploaded = client.files.create(file=("a.jsonl", chat_file(1)), purpose="batch", expires_after={"anchor": "created_at", "seconds": 3600})
    assert uploaded.expires_at == uploaded.created_at + 3600


def test_an_upload_without_expiry_lives_thirty_days_as_at_openai(client):
    uploaded = client.files.create(file=("a.jsonl", chat_file(1)), purpose="batch")
    assert uploaded.expires_at == uploaded.created_at + 30 * 86_400


@pytest.mark.parametrize("file", [chat_file(1), ("upload", chat_file(1)), ("data", chat_file(1))], ids=["raw-bytes", "upload", "data"])
def test_an_upload_named_without_an_extension_is_taken(client, file):
    """Raw bytes go out as httpx's default name `upload`; OpenAI takes such names, so clients uploading from memory work."""
    uploaded = client.files.create(file=file, purpose="batch")
    assert "." not in uploaded.filename and client.files.content(uploaded.id).content == chat_file(1)


def test_every_response_carries_a_request_id(client):
    uploaded = client.files.with_raw_response.create(file=("a.jsonl", chat_file(1)), purpose="batch")
    assert uploaded.headers["x-request-id"].startswith("req_")
    listed = client.files.list()
    assert listed._request_id and listed._request_id != uploaded.headers["x-request-id"]
    with pytest.raises(openai.NotFoundError) as caught:
        client.files.retrieve("file-doesnotexist0000")
    assert caught.value.request_id and caught.value.request_id.startswith("req_")


def test_uploads_without_expiry_stop_at_the_cap_with_azures_error(make_server):
    client = openai_client(make_server(max_files_without_expiry=2, max_files=4))
    kept = [client.files.create(file=(f"f{i}.jsonl", chat_file(1)), purpose="batch") for i in range(2)]
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("f2.jsonl", chat_file(1)), purpose="batch")
    assert caught.value.code == "quotaExceeded"
    assert caught.value.body["message"] == "The quota for files without expiry is reached. The maximum is 2."
    expiring = {"anchor": "created_at", "seconds": 3600}
    client.files.create(file=("e0.jsonl", chat_file(1)), purpose="batch", expires_after=expiring)  # these still fit
    client.files.delete(kept[0].id)  # a deleted file frees its place
    client.files.create(file=("f3.jsonl", chat_file(1)), purpose="batch")
    client.files.create(file=("e1.jsonl", chat_file(1)), purpose="batch", expires_after=expiring)
    with pytest.raises(openai.BadRequestError, match="The quota for files is reached. The maximum is 4."):
        client.files.create(file=("e2.jsonl", chat_file(1)), purpose="batch", expires_after=expiring)


def test_list_paginates_with_after_and_has_more(client):
    ids = [client.files.create(file=(f"f{i}.jsonl", chat_file(1)), purpose="batch").id for i in range(5)]

    first = client.files.list(limit=2)
    assert [f.id for f in first.data] == ids[::-1][:2]  # newest first
    assert first.has_more is True
    second = client.files.list(limit=2, after=first.data[-1].id)
    assert [f.id for f in second.data] == ids[::-1][2:4]
    ascending = client.files.list(order="asc", limit=10)
    assert [f.id for f in ascending.data] == ids and ascending.has_more is False
    assert [f.id for f in client.files.list(limit=2)] == ids[::-1]


def test_delete_hides_the_file(client):
    uploaded = client.files.create(file=("a.jsonl", chat_file(1)), purpose="batch")

    deleted = client.files.delete(uploaded.id)

    assert isinstance(deleted, FileDeleted) and deleted.deleted and deleted.id == uploaded.id
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)
    assert uploaded.id not in [f.id for f in client.files.list().data]


@pytest.mark.parametrize("call", ["retrieve", "content", "delete"])
def test_unknown_file_is_404_with_an_openai_error_body(client, call):
    with pytest.raises(openai.NotFoundError) as caught:
        getattr(client.files, call)("file-doesnotexist0000")
    assert caught.value.body["message"] and caught.value.body["type"] == "invalid_request_error"


@pytest.mark.parametrize("name", ["requests.csv", "b.json", "notes.txt"])
def test_an_upload_with_another_extension_is_refused_with_400(client, name):
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=(name, b"a,b\n"), purpose="batch")
    assert ".jsonl" in caught.value.message
    assert client.files.list().data == []


def test_upload_over_the_size_limit_is_refused(make_server, tmp_path):
    server = make_server(max_upload_bytes=1000)
    client = openai_client(server)

    with pytest.raises(openai.APIStatusError) as caught:
        client.files.create(file=("big.jsonl", chat_file(100)), purpose="batch")

    assert caught.value.status_code == 413 and "1,000 bytes" in caught.value.message
    assert client.files.list().data == []
    assert not [p for p in (tmp_path / "data" / "files").iterdir()], "no partial upload is left behind"


def test_chunked_upload_over_the_limit_is_cut_off_while_streaming(make_server):
    # No Content-Length: the server can only find out by counting as the bytes arrive.
    server = make_server(max_upload_bytes=1000)
    boundary = "zzboundary"

    def body():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'.encode()
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\n\r\n'.encode()
        for _ in range(100):
            yield chat_file(1)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = httpx.post(f"{server.base_url}/files", content=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


def test_ids_cannot_reach_outside_the_data_dir(server, tmp_path):
    (tmp_path / "secret.jsonl").write_text("TOP-SECRET-CONTENT")
    for bad in ("..%2F..%2Fsecret", "file-..%2F..%2Fsecret", "%2E%2E", "file-abc%00"):
        response = httpx.get(f"{server.base_url}/files/{bad}/content")
        assert response.status_code == 404, bad
        assert "TOP-SECRET-CONTENT" not in response.text
        assert response.json()["error"]["type"] == "invalid_request_error"
