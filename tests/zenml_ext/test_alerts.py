"""The loader's alerts through ZenML's real Slack alerter, to Slack's API played on this machine.

The stack gets a Slack alerter (ZenML's ``slack`` flavor, its token in a ZenML secret); Slack's
Web API is the HTTPS fake of ``slack_fake``. A job collected by a loader run is announced with its
rows, cost and run; a loader run that fails is announced with its step and error. The token and
the provider key appear in no message and no log.
"""

from __future__ import annotations

import secrets
import time

import pandas as pd
import pytest

from tests.zenml_ext.slack_fake import start
from zenbatch.config import JobConfig
from zenbatch.errors import PipelineRunError
from zenbatch.lifecycle import poll, prepare_job, submit
from zenbatch.providers.factory import make_provider
from zenbatch.server import LocalBatchServer

pytestmark = pytest.mark.pipeline

SLACK_TOKEN = f"xoxb-zenbatch-SENTINEL-{secrets.token_hex(8)}"
PROVIDER_KEY = f"sk-zenbatch-SENTINEL-{secrets.token_hex(8)}"
KEY_VAR = f"ZENBATCH_ALERT_TEST_KEY_{secrets.token_hex(4).upper()}"


@pytest.fixture
def slack(zenml_store, tmp_path, monkeypatch):
    """A stack with ZenML's Slack alerter, active for the test; Slack is the local fake."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    fake, proxy = start(tmp_path)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{fake.port}")
    monkeypatch.setenv("SSL_CERT_FILE", str(fake.cert))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    client = Client()
    before = client.active_stack_model
    suffix = secrets.token_hex(3)
    client.create_secret(f"zb_slack_{suffix}", values={"token": SLACK_TOKEN})
    client.create_stack_component(
        name=f"zb_slack_{suffix}", flavor="slack", component_type=StackComponentType.ALERTER,
        configuration={"slack_token": f"{{{{zb_slack_{suffix}.token}}}}", "slack_channel_id": "C0BATCHES"},
    )  # fmt: skip
    components = {kind: [c.name for c in found] for kind, found in before.components.items()}
    client.create_stack(name=f"zb_alerting_{suffix}", components={**components, StackComponentType.ALERTER: [f"zb_slack_{suffix}"]})
    client.activate_stack(f"zb_alerting_{suffix}")
    try:
        yield fake
    finally:
        client.activate_stack(before.id)
        client.delete_stack(f"zb_alerting_{suffix}")
        client.delete_stack_component(f"zb_slack_{suffix}", StackComponentType.ALERTER)
        client.delete_secret(f"zb_slack_{suffix}")
        proxy.shutdown()


def _open_job(server: LocalBatchServer, tmp_path, name: str, *, finished: bool = True):
    """A job submitted to ``server`` (its batch ``finished`` when asked), saved in ZenML as an open ``batch_job``."""
    from zenml import save_artifact

    from zenbatch.zenml_ext.materializers.batch_job import BatchJobMaterializer
    from zenbatch.zenml_ext.registry import JOB_ARTIFACT, job_tag, mark_newest
    from zenbatch.zenml_ext.tags import ZENBATCH_TAG

    config = JobConfig.model_validate({
        "name": name, "provider": {"kind": "local", "base_url": server.base_url, "api_key_env": KEY_VAR},
        "template": {"model": "gpt-4o-mini", "user_template": "{text}", "parameters": {"max_tokens": 3}},
    })  # fmt: skip
    job, _ = prepare_job(config, tmp_path / name, pd.DataFrame({"text": [f"{name} row {i}" for i in range(4)]}))
    provider = make_provider(config.provider)
    submit(job, provider)
    deadline = time.monotonic() + 30
    while finished and not all(s.status.is_terminal() for s in job.shards) and time.monotonic() < deadline:
        poll(job, provider)
    saved = save_artifact(job, name=JOB_ARTIFACT, tags=[ZENBATCH_TAG, job_tag(job.job_id)], materializer=BatchJobMaterializer)
    mark_newest(saved.id, job.job_id, collected=False)
    return job, saved


def _no_secret_in(fake, capfd, caplog) -> None:
    output = capfd.readouterr()
    for place, text in (("messages", "\n".join(fake.messages)), ("stdout", output.out), ("stderr", output.err), ("log", caplog.text)):
        assert SLACK_TOKEN not in text and PROVIDER_KEY not in text, f"a secret is in the {place}"
    assert all(c.headers.get("authorization") == f"Bearer {SLACK_TOKEN}" for c in fake.calls)  # only where Slack needs it


def test_a_collected_job_is_announced_with_its_rows_cost_and_run(slack, tmp_path, monkeypatch, capfd, caplog):
    from zenbatch.zenml_ext.runs import run_loader_once

    monkeypatch.setenv(KEY_VAR, PROVIDER_KEY)
    with LocalBatchServer(tmp_path / "server", engine="echo", api_key=PROVIDER_KEY) as server:
        job, _ = _open_job(server, tmp_path, "alerted-job")
        report = run_loader_once()

    assert job.job_id in report.collected
    [message] = [m for m in slack.messages if job.job_id in m]
    assert f"job alerted-job ({job.job_id}) is collected: 4 rows, 4 succeeded, 0 failed, 0 missing" in message
    assert "estimated" in message and "Cost $" in message and "Run: loader_pipeline" in message
    assert [c.body.get("channel") for c in slack.calls if c.method == "chat.postMessage"] == ["C0BATCHES"]
    _no_secret_in(slack, capfd, caplog)


def test_a_failed_loader_run_is_announced_with_the_job_the_step_and_the_error(slack, tmp_path, monkeypatch, capfd, caplog):
    from zenbatch.zenml_ext.registry import mark_newest
    from zenbatch.zenml_ext.runs import run_loader_once

    monkeypatch.setenv(KEY_VAR, PROVIDER_KEY)
    with LocalBatchServer(tmp_path / "server", engine="echo", api_key=PROVIDER_KEY, line_delay_ms=2000) as server:
        job, saved = _open_job(server, tmp_path, "failing-loader", finished=False)
        monkeypatch.setenv(KEY_VAR, "sk-zenbatch-revoked-0000000000")  # the key was rotated: the provider refuses it
        try:
            with pytest.raises(PipelineRunError):
                run_loader_once()
        finally:
            mark_newest(saved.id, job.job_id, collected=True)  # no other loader picks it up

    [message] = [m for m in slack.messages if "failed in step" in m]
    assert "failed in step advance_jobs: LoaderError" in message and job.job_id in message
    assert "HTTP 401" in message and "check the API key" in message
    assert "revoked" not in message
    _no_secret_in(slack, capfd, caplog)
