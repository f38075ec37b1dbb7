"""Previewing a job through the realtime endpoint of a real local server, with the real openai SDK."""

from __future__ import annotations

import pandas as pd
import pytest

from zenbatch.config import JobConfig
from zenbatch.errors import ConfigError
from zenbatch.preview import preview
from zenbatch.providers.base import RetryPolicy
from zenbatch.providers.factory import make_provider
from zenbatch.server import LocalBatchServer

SCHEMA = {"type": "object", "properties": {"sentiment": {"type": "string"}}, "required": ["sentiment"], "additionalProperties": False}


def job(server: LocalBatchServer, **template: object) -> JobConfig:
    return JobConfig.model_validate({
        "name": "preview-test", "provider": {"kind": "local", "base_url": server.base_url},
        "template": {"model": "gpt-4o-mini", "user_template": "Review: {text}", "id_column": "id",
                     "parameters": {"max_tokens": 20}, "json_schema": {"name": "s", "schema": SCHEMA}, **template},
    })  # fmt: skip


ROWS = pd.DataFrame({"id": [f"r{i}" for i in range(8)], "text": [f"review {i}" for i in range(8)]})


def test_the_first_rows_come_back_as_the_results_table_at_the_realtime_price(tmp_path):
    with LocalBatchServer(tmp_path / "server", engine="echo") as server:
        config = job(server)
        provider = make_provider(config.provider)
        shown = preview(config, provider, rows=5, frame=ROWS, concurrency=3)

        assert shown.results["custom_id"].tolist() == ["r0", "r1", "r2", "r3", "r4"]
        assert (shown.results["status"] == "succeeded").all() and shown.results["parsed"].notna().all()
        assert shown.realtime_cost == pytest.approx(2 * shown.batch_cost) and shown.batch_cost > 0
        assert provider.calls["realtime"] == 5 and provider.calls["upload"] == provider.calls["create"] == 0
        assert server.execution_counts() == {}  # no batch ran


def test_transient_failures_are_retried_and_refusals_become_failed_rows(tmp_path):
    with LocalBatchServer(tmp_path / "server", engine="echo", fail_mix={429: 0.3}, seed=3) as server:
        config = job(server)
        provider = make_provider(config.provider, retry=RetryPolicy(attempts=8, base=0.01))
        shown = preview(config, provider, rows=8, frame=ROWS)
        assert shown.succeeded == 8 and provider.calls["realtime"] > 8  # some were retried
    with LocalBatchServer(tmp_path / "refusing", engine="echo", fail_mix={400: 1.0}) as server:
        config = job(server)
        shown = preview(config, make_provider(config.provider), rows=2, frame=ROWS)
        assert (shown.results["status"] == "failed").all() and not shown.results["retryable"].any()
        assert shown.results["error_code"].tolist() == ["invalid_request"] * 2


def test_a_preview_is_bounded_and_needs_rows(tmp_path):
    with LocalBatchServer(tmp_path / "server", engine="echo") as server:
        config = job(server)
        with pytest.raises(ConfigError, match="preview 1 to 1,000 rows"):
            preview(config, make_provider(config.provider), rows=5000, frame=ROWS)
