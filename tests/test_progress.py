"""Progress of long work: rows built, bytes downloaded, and how often a log hears of it."""

from __future__ import annotations

import logging

import httpx2
import pytest

from tests.providers.test_base import provider_with
from tests.test_estimate import job
from zenbatch.estimate import estimate_job
from zenbatch.progress import LineProgress


def test_building_requests_reports_rows_up_to_the_total(tmp_path):
    heard = []
    estimate_job(job(tmp_path, [f"text {i}" for i in range(12_000)]), progress=lambda *a: heard.append(a))
    assert heard[0] == ("building requests", 0, 12_000)
    assert heard[-1] == ("building requests", 12_000, 12_000)
    done = [d for _, d, _ in heard]
    assert done == sorted(done) and len(heard) >= 3  # one report per chunk of rows


def test_a_download_reports_its_bytes_against_the_content_length(tmp_path):
    body = b'{"custom_id": "r1"}\n' * 100_000  # about 2 MB: several blocks

    def handler(request: httpx2.Request) -> httpx2.Response:
        assert request.url.path.endswith("/files/file-out/content")
        return httpx2.Response(200, content=body, headers={"content-length": str(len(body))})

    heard = []
    path = provider_with(handler).download("file-out", tmp_path / "b.output.jsonl", lambda *a: heard.append(a))
    assert path.read_bytes() == body
    assert {what for what, _, _ in heard} == {"downloading b.output.jsonl"}
    assert heard[-1][1:] == (len(body), len(body))
    assert len(heard) >= 2


def test_a_log_hears_the_start_the_end_and_at_most_one_line_per_interval(caplog):
    now = [0.0]
    progress = LineProgress(logging.getLogger("zenbatch.test").info, "rows", every=10, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="zenbatch.test"):
        for done in range(0, 101, 10):
            now[0] = done / 4  # 2.5 s per step: lines at 0 s and 10 s and 20 s, then the end
            progress("building requests", done, 100)
    assert [r.getMessage() for r in caplog.records] == [
        "building requests: 0 of 100 rows (0%)",
        "building requests: 40 of 100 rows (40%)",
        "building requests: 80 of 100 rows (80%)",
        "building requests: 100 of 100 rows (100%)",
    ]


@pytest.mark.parametrize("total", [None, 0])
def test_a_log_without_a_total_counts_only(caplog, total):
    progress = LineProgress(logging.getLogger("zenbatch.test").info, "bytes")
    with caplog.at_level(logging.INFO, logger="zenbatch.test"):
        progress("downloading x.jsonl", 2048, total)
    assert caplog.records[0].getMessage() == "downloading x.jsonl: 2,048 bytes"
