"""The server's security edges: keys refused without echoing them, loopback binding by default,
and ids or upload names that cannot reach outside the data dir.

test_auth_and_azure.py covers the accepted headers and raw 401 bodies; test_files_api.py a few
encoded ids on ``/content``. Here: the SDK's view of a refusal, near-miss keys, every route, the
CLI's bind address, and traversal on every file route and in upload names.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath, PureWindowsPath

import httpcore
import httpx
import httpx2
import openai
import psutil
import pytest
from openai import AzureOpenAI, OpenAI, omit

from tests.helpers import free_port
from tests.server.kit import chat_file
from zenbatch.cli import build_parser, main
from zenbatch.server import LocalBatchServer
from zenbatch.server.settings import ServerSettings

KEY = "sk-zenbatch-SENTINEL-" + secrets.token_hex(16)
WRONG = "WRONG-SENTINEL-" + secrets.token_hex(16)  # no "sk-" prefix: nothing shaped like a key hides it
REFUSAL = "invalid_api_key"


def _sent_headers() -> tuple[httpx2.Client, list[dict[str, str]]]:
    """A real HTTP client that records the headers it sent, to prove a key did go out."""
    sent: list[dict[str, str]] = []
    return httpx2.Client(event_hooks={"request": [lambda request: sent.append(dict(request.headers))]}), sent


def _assert_refused_without_echo(caught: pytest.ExceptionInfo[openai.AuthenticationError], *keys: str) -> None:
    error = caught.value
    assert error.status_code == 401 and error.code == REFUSAL
    assert isinstance(error.body, dict) and error.body["type"] == "invalid_request_error" and error.body["message"]
    for key in keys:
        for text in (str(error), error.message, repr(error.body), error.response.text, repr(dict(error.response.headers))):
            assert key not in text


@pytest.fixture
def keyed(make_server) -> LocalBatchServer:
    return make_server(api_key=KEY)


# keys ------------------------------------------------------------------------------------------


def test_wrong_bearer_key_through_the_sdk_is_refused_and_not_echoed(keyed):
    http, sent = _sent_headers()
    client = OpenAI(base_url=keyed.base_url, api_key=WRONG, max_retries=0, http_client=http)

    with pytest.raises(openai.AuthenticationError) as caught:
        client.batches.list()

    assert sent[-1]["authorization"] == f"Bearer {WRONG}"
    _assert_refused_without_echo(caught, WRONG, KEY)


def test_wrong_azure_api_key_header_through_the_sdk_is_refused_and_not_echoed(keyed):
    http, sent = _sent_headers()
    client = AzureOpenAI(azure_endpoint=keyed.azure_endpoint, api_version="2024-10-21", api_key=WRONG, max_retries=0,
                         http_client=http)  # fmt: skip

    with pytest.raises(openai.AuthenticationError) as caught:
        client.files.create(file=("a.jsonl", chat_file(1)), purpose="batch")

    assert sent[-1]["api-key"] == WRONG and "authorization" not in sent[-1]
    _assert_refused_without_echo(caught, WRONG, KEY)
    assert OpenAI(base_url=keyed.base_url, api_key=KEY, max_retries=0).files.list().data == []


@pytest.mark.parametrize("header", ["Authorization", "api-key"])
def test_missing_key_through_the_sdk_is_refused(keyed, header):
    http, sent = _sent_headers()
    if header == "Authorization":
        client: OpenAI = OpenAI(base_url=keyed.base_url, api_key=KEY, max_retries=0, http_client=http)
    else:
        client = AzureOpenAI(azure_endpoint=keyed.azure_endpoint, api_version="2024-10-21", api_key=KEY, max_retries=0,
                             http_client=http)  # fmt: skip

    with pytest.raises(openai.AuthenticationError) as caught:
        client.batches.list(extra_headers={header: omit})  # the SDK's own way to send no key

    assert not {"authorization", "api-key"} & set(sent[-1])
    _assert_refused_without_echo(caught, KEY)


@pytest.mark.parametrize("given", [
    KEY[:-1], KEY + "x", KEY.upper(), KEY[: len(KEY) // 2], KEY.replace("-", "_"), "",
], ids=["prefix", "suffix", "case", "half", "underscores", "empty"])  # fmt: skip
@pytest.mark.parametrize("header", ["bearer", "api-key"])
def test_near_miss_keys_are_refused_and_not_echoed(keyed, given, header):
    headers = {"Authorization": f"Bearer {given}".strip()} if header == "bearer" else {"api-key": given}

    response = httpx.get(f"{keyed.base_url}/batches", headers=headers)

    assert response.status_code == 401 and response.json()["error"]["code"] == REFUSAL
    assert KEY not in response.text and (not given or given not in response.text)


ROUTES = [
    ("GET", "/files"), ("POST", "/files"), ("GET", "/files/file-aaaaaaaaaaaaaaaa"),
    ("GET", "/files/file-aaaaaaaaaaaaaaaa/content"), ("DELETE", "/files/file-aaaaaaaaaaaaaaaa"),
    ("GET", "/batches"), ("POST", "/batches"), ("GET", "/batches/batch_aaaaaaaaaaaaaaaa"),
    ("POST", "/batches/batch_aaaaaaaaaaaaaaaa/cancel"),
]  # fmt: skip


@pytest.mark.parametrize("prefix", ["/v1", "/openai/v1", "/openai"])
def test_every_route_under_every_prefix_needs_the_key_and_an_upload_without_it_writes_nothing(keyed, prefix):
    files_dir = keyed.settings.data_dir / "files"
    upload = {"files": {"file": ("a.jsonl", chat_file(2))}, "data": {"purpose": "batch"}}
    for method, route in ROUTES:
        kwargs = upload if (method, route) == ("POST", "/files") else {}
        response = httpx.request(method, f"{keyed.url}{prefix}{route}", params={"api-version": "2024-10-21"}, **kwargs)
        assert response.status_code == 401, (method, prefix, route)
        assert response.json()["error"]["code"] == REFUSAL
    assert list(files_dir.iterdir()) == []


# binding ---------------------------------------------------------------------------------------


def test_local_server_and_settings_bind_loopback_by_default(tmp_path):
    assert ServerSettings(data_dir=tmp_path).host == "127.0.0.1"
    with LocalBatchServer(tmp_path / "data", engine="echo") as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert _listening(os.getpid(), server.port) == {"127.0.0.1"}


def _listening(pid: int, port: int) -> set[str]:
    """The addresses a process listens on at ``port``, as the operating system sees them."""
    connections = psutil.Process(pid).net_connections(kind="inet")
    return {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


def test_serve_defaults_to_loopback_in_its_help_and_its_parsed_arguments(capsys):
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "default 127.0.0.1" in " ".join(capsys.readouterr().out.split())


def test_zenbatch_serve_listens_on_loopback_only_and_never_prints_its_key(tmp_path):
    port = free_port()
    env = {**os.environ, "ZENBATCH_SERVE_API_KEY": KEY}  # the key through the environment, not argv
    command = ["serve", "--engine", "echo", "--port", str(port), "--data-dir", str(tmp_path / "d")]
    process = subprocess.Popen([sys.executable, "-m", "zenbatch", *command], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.communicate()
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v1/files", headers={"api-key": WRONG}, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "zenbatch serve did not start"
                time.sleep(0.2)
        assert response.status_code == 401
        assert _listening(process.pid, port) == {"127.0.0.1"}
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert "auth required" in err  # what it logs instead of the key
    assert KEY not in out + err and WRONG not in out + err


# path traversal --------------------------------------------------------------------------------

TRAVERSAL_IDS = [
    b"../../canary", b"../../canary.jsonl", b"..%2F..%2Fcanary", b"..%2f..%2fcanary.jsonl", b"%2E%2E%2F%2E%2E%2Fcanary",
    b"..", b"%2E%2E", b"file-aaaaaaaa%2F..%2F..%2F..%2Fcanary", b"file-aaaaaaaa/../../../canary",
    b"..%5C..%5Ccanary", b"%2Fetc%2Fpasswd", b"/etc/passwd", b"CANARY_ABS", b"file-aaaaaaaa%00", b"%00",
    b"file-" + b"a" * 5000, b"a" * 12000, b"a" * 100_000,
]  # fmt: skip


def _snapshot(root: Path, skip: Path) -> dict[str, str]:
    """Every file under ``root`` outside ``skip``, with a hash of its content."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        for path in sorted(root.rglob("*")) if not path.is_relative_to(skip)
    }  # fmt: skip


@pytest.fixture
def jail(make_server, tmp_path):
    """A keyed server whose data dir sits two folders down, with a canary file planted outside it."""
    data_dir = tmp_path / "jail" / "data"
    canary = tmp_path / "canary.jsonl"
    canary.write_text('{"canary": "TOP-SECRET-CONTENT"}\n')
    (tmp_path / "canary").write_text("TOP-SECRET-CONTENT\n")
    server = make_server(data_dir=data_dir, api_key=KEY)
    return server, data_dir, canary


def _raw(server: LocalBatchServer, method: str, target: bytes) -> tuple[int, bytes]:
    """One request with its target sent byte for byte: httpx would normalise ``..`` segments."""
    response = httpcore.request(
        method, httpcore.URL(scheme=b"http", host=b"127.0.0.1", port=server.port, target=target),
        headers=[(b"Host", b"127.0.0.1"), (b"Authorization", f"Bearer {KEY}".encode())],
    )  # fmt: skip
    return response.status, response.content


@pytest.mark.parametrize("route", ["GET {}", "GET {}/content", "DELETE {}"])
def test_traversal_ids_on_file_routes_answer_4xx_and_touch_nothing_outside(jail, tmp_path, route):
    server, data_dir, canary = jail
    before = _snapshot(tmp_path, data_dir)
    method, _, shape = route.partition(" ")
    for prefix in (b"/v1/files/", b"/openai/v1/files/"):
        for bad in TRAVERSAL_IDS:
            bad = bad.replace(b"CANARY_ABS", str(canary).encode())
            target = prefix + shape.format(bad.decode()).encode()
            status, body = _raw(server, method, target)
            assert 400 <= status < 500, (method, target[:120], status)
            assert b"TOP-SECRET-CONTENT" not in body and b"root:" not in body
    assert _snapshot(tmp_path, data_dir) == before
    assert canary.read_text() == '{"canary": "TOP-SECRET-CONTENT"}\n'


def test_batch_routes_refuse_traversal_input_file_ids(jail):
    server, _, canary = jail
    client = OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    for bad in ("../../canary", str(canary), "file-aaaaaaaa/../../canary", "file-\x00aaaaaaaa"):
        with pytest.raises(openai.NotFoundError):
            client.batches.create(input_file_id=bad, endpoint="/v1/chat/completions", completion_window="24h")
    assert client.batches.list().data == []


def _multipart(filename: bytes, content: bytes, boundary: bytes = b"zzsecurity") -> tuple[bytes, dict[str, str]]:
    """A multipart body built by hand, so the file name reaches the server exactly as written."""
    body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/jsonl\r\n\r\n" + content + b"\r\n--" + boundary + b"--\r\n"
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}", "Authorization": f"Bearer {KEY}"}


UPLOAD_NAMES = [
    pytest.param(b"../../escape.jsonl", id="dot-dot"),
    pytest.param(b"../../../../../../tmp/escape.jsonl", id="dot-dot-to-tmp"),
    pytest.param(b"ABSOLUTE/escape.jsonl", id="absolute-beside-the-data-dir"),
    pytest.param(b"/tmp/escape.jsonl", id="absolute-tmp"),
    pytest.param(b"sub/../../escape.jsonl", id="dot-dot-inside"),
    pytest.param(b"..\\..\\escape.jsonl", id="backslashes"),
    pytest.param(b"..\\\\..\\\\escape.jsonl", id="escaped-backslashes"),
    pytest.param(b"C:\\Windows\\escape.jsonl", id="windows-drive"),
    pytest.param(b"esc\x00ape.jsonl", id="nul-byte"),
    pytest.param(b"esc\nape.jsonl", id="newline"),  # a forged log line wherever the name is logged
]  # fmt: skip


@pytest.mark.parametrize("raw", UPLOAD_NAMES)
def test_upload_with_a_traversal_name_is_stored_inside_and_named_plainly(jail, tmp_path, raw):
    server, data_dir, _ = jail
    before = _snapshot(tmp_path, data_dir)
    elsewhere = [Path("/tmp/escape.jsonl"), tmp_path.parent / "escape.jsonl", Path.cwd().parent.parent / "escape.jsonl"]
    existed = [path.exists() for path in elsewhere]
    content = chat_file(2)
    body, headers = _multipart(raw.replace(b"ABSOLUTE", str(tmp_path).encode()), content)

    response = httpx.post(f"{server.base_url}/files", content=body, headers=headers)

    assert response.status_code == 200, response.text
    uploaded = response.json()
    name = uploaded["filename"]
    assert name == "escape.jsonl"
    assert name == PurePosixPath(name).name == PureWindowsPath(name).name and all(ch >= " " for ch in name)
    stored = [p for p in (data_dir / "files").iterdir() if p.read_bytes() == content]
    assert stored == [data_dir / "files" / f"{uploaded['id']}.jsonl"]
    assert _snapshot(tmp_path, data_dir) == before  # nothing new beside the data dir or above it
    assert sorted(p.name for p in data_dir.parent.iterdir()) == ["data"]
    assert [path.exists() for path in elsewhere] == existed
    client = OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    assert client.files.retrieve(uploaded["id"]).filename == name
    assert client.files.content(uploaded["id"]).content == content


def test_upload_named_only_by_a_path_is_refused_and_leaves_nothing(jail, tmp_path):
    server, data_dir, _ = jail
    before = _snapshot(tmp_path, data_dir)
    for raw in (b"../..", b"../../", b"..\\\\..\\\\", b"/"):
        body, headers = _multipart(raw, chat_file(1))
        response = httpx.post(f"{server.base_url}/files", content=body, headers=headers)
        assert response.status_code == 400 and response.json()["error"]["param"] == "file", raw
    assert list((data_dir / "files").iterdir()) == []
    assert _snapshot(tmp_path, data_dir) == before
