"""The answers a provider can give on a bad day, injected on purpose, through the openai SDK."""

from __future__ import annotations

import threading
import time
from collections import Counter

import orjson
import pytest

from tests.server.conftest import openai_client
from tests.server.kit import chat_file, read_jsonl, submit, wait_for
from zenbatch.server.faults import MALFORMED_EVERY
from zenbatch.server.settings import FaultSettings


def test_a_mix_of_statuses_fails_its_shares_of_lines(make_server):
    client = openai_client(make_server(fail_mix={500: 0.10, 429: 0.05}, seed=11))
    batch = wait_for(client, submit(client, chat_file(600)).id)
    codes = Counter(r["response"]["status_code"] for r in read_jsonl(client, batch.error_file_id))
    assert set(codes) == {500, 429}
    assert 35 <= codes[500] <= 90 and 12 <= codes[429] <= 50  # 60 and 30 expected
    assert batch.request_counts.completed == 600 - codes.total()


def test_failure_shares_above_one_are_refused():
    with pytest.raises(ValueError, match="add up to at most 1"):
        FaultSettings(fail_rate=0.6, fail_mix={429: 0.5})


def test_a_held_reply_comes_late_but_the_work_is_already_done(make_server):
    server = make_server(hold_replies={"upload": 1.5, "create": 1.5})
    client, watcher = openai_client(server), openai_client(server)
    seen: dict[str, int] = {}

    def watch() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(seen) < 2:
            if "file" not in seen and watcher.files.list().data:
                seen["file"] = 1
            if "batch" not in seen and watcher.batches.list().data:
                seen["batch"] = 1
            time.sleep(0.05)

    thread = threading.Thread(target=watch)
    thread.start()
    started = time.monotonic()
    file = client.files.create(file=("in.jsonl", chat_file(2)), purpose="batch")
    uploaded = time.monotonic()
    assert seen == {"file": 1}  # the file was stored before its answer arrived
    client.batches.create(input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h")
    thread.join()
    assert uploaded - started >= 1.4 and time.monotonic() - uploaded >= 1.4
    assert seen == {"file": 1, "batch": 1}


def test_slow_lost_truncated_and_malformed_outputs(make_server, tmp_path):
    healthy = make_server(tmp_path / "data")
    client = openai_client(healthy)
    batch = wait_for(client, submit(client, chat_file(30)).id)
    whole = client.files.content(batch.output_file_id).content
    healthy.stop()

    def served(**faults):
        server = make_server(tmp_path / "data", **faults)
        return openai_client(server), server

    slow, server = served(download_bytes_per_second=len(whole) / 1.0)
    started = time.monotonic()
    assert slow.files.content(batch.output_file_id).content == whole
    assert time.monotonic() - started >= 0.9
    server.stop()

    cut, server = served(corrupt_outputs="truncate")
    truncated = cut.files.content(batch.output_file_id).content
    assert whole.startswith(truncated) and len(truncated) < len(whole)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(truncated.splitlines()[-1])
    assert cut.files.content(batch.input_file_id).content.count(b"\n") == 30  # inputs are served whole
    server.stop()

    garbled, server = served(corrupt_outputs="malformed")
    lines = garbled.files.content(batch.output_file_id).content.splitlines()
    bad = [i for i, line in enumerate(lines) if not line.endswith(b"}")]
    assert bad == list(range(MALFORMED_EVERY - 1, 30, MALFORMED_EVERY))
    server.stop()

    lost, server = served(lose_outputs=True)
    with pytest.raises(Exception, match="404|No such file|not found"):
        lost.files.content(batch.output_file_id)
    assert lost.files.content(batch.input_file_id).content  # inputs are still there
    server.stop()


def test_an_unknown_status_is_reported_as_given(make_server):
    client = openai_client(make_server(report_status="paused_by_provider"))
    batch = submit(client, chat_file(1))
    assert client.batches.retrieve(batch.id).status == "paused_by_provider"
    assert {b.status for b in client.batches.list().data} == {"paused_by_provider"}
