"""``zenbatch demo`` on the sample job, end to end on the session's store, with the echo engine.

The demo starts its own local batch server (here on a free port), runs every pipeline and
prints a summary; run again, it finds the job collected and submits nothing.
"""

from __future__ import annotations

import orjson
import pytest
import yaml
from openai import OpenAI

from tests.helpers import free_port
from zenbatch.cli import main

pytestmark = pytest.mark.pipeline


def test_the_demo_runs_the_whole_flow_once_and_then_submits_nothing(zenml_store, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZENML_LOGGING_VERBOSITY", "INFO")  # the demo quietens ZenML only where nobody chose
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    provider = tmp_path / "local.yaml"
    provider.write_text(yaml.safe_dump({"kind": "local", "base_url": base_url}))

    assert main(["demo", "--engine", "echo", "--provider", str(provider), "--json"]) == 0
    first = orjson.loads(capsys.readouterr().out)
    assert first["already_collected"] is False and first["loader_schedule"] == "zenbatch-loader"
    assert first["rows"] == {"rows": 300, "succeeded": 300, "failed": 0, "missing": 0}
    assert first["tokens"]["prompt_tokens"] > 0 and 0 < first["cost"]["batch"] < first["cost"]["realtime"]
    assert first["cost"]["saved"] == pytest.approx(first["cost"]["realtime"] - first["cost"]["batch"])
    # Echo answers the schema with a label drawn from each review's hash: about a third match.
    assert 0.15 < first["evaluation"]["accuracy"] < 0.55 and first["evaluation"]["coverage"] == 1.0
    assert {"batch_job", "batch_results", "labeled_dataset", "evaluation_report", "finetune_dataset"} <= set(first["artifacts"])
    assert len(first["batches"]) == 1

    assert main(["demo", "--engine", "echo", "--provider", str(provider)]) == 0
    printed = capsys.readouterr().out
    assert "==> this job was submitted and collected before: nothing submitted again" in printed
    assert f"batches    {first['batches'][0]}" in printed
    assert "rows       300: 300 succeeded, 0 failed, 0 missing" in printed
    assert f"evaluation accuracy {first['evaluation']['accuracy']:.1%}" in printed
    assert "dashboard  zenml login --local, then http://127.0.0.1:8237/projects/default/runs/" in printed
    # The demo's server stopped with the demo; its data folder shows what it ran.
    from zenbatch.home import local_home
    from zenbatch.server import LocalBatchServer

    server = LocalBatchServer(local_home() / "server", engine="echo", port=int(base_url.rsplit(":", 1)[1].split("/")[0]))
    server.start()
    try:
        assert len(OpenAI(base_url=base_url, api_key="unused").batches.list(limit=100).data) == 1
        assert set(server.execution_counts().values()) == {1} and len(server.execution_counts()) == 300
    finally:
        server.stop()
