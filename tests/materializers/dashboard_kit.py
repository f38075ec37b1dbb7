"""The local ZenML dashboard over the session's isolated store, and headless Chromium to read it.

The server is ZenML's own app under uvicorn, started as ``zenml login --local`` starts it
(no authentication, local deployment) but on a free port and against the test store; the
browser is Debian's Chromium driven by Playwright, with every request that leaves 127.0.0.1
aborted (the dashboard asks the internet for avatars and news).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import free_port

CHROMIUM = os.environ.get("ZENBATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
HTML_FRAME = 'iframe[title="Secure HTML Content"]'



@contextmanager
def dashboard_server(folder: Path) -> Iterator[str]:
    """ZenML's server on the active (isolated) store; yields its base URL."""
    from zenml.client import Client
    from zenml.config.global_config import GlobalConfiguration

    client = Client()
    # The dashboard sends a user who has not answered its onboarding survey to /survey.
    client.update_user(client.active_user.id, updated_email_opt_in=False, updated_metadata={"finished_onboarding_survey": True})
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "ZENML_REPOSITORY_PATH"}
    env.update(
        ZENML_SERVER="true",
        ZENML_CONFIG_PATH=str(folder / "server-config"),
        ZENML_LOCAL_STORES_PATH=GlobalConfiguration().local_stores_path,  # the same SQLite file as the tests
        ZENML_SERVER_AUTH_SCHEME="NO_AUTH",
        ZENML_SERVER_DEPLOYMENT_TYPE="local",
        ZENML_SERVER_AUTO_ACTIVATE="True",
        ZENML_SERVER_ALLOW_LOCAL_FILE_ACCESS="true",  # visualizations live in the local artifact store
        ZENML_DISABLE_DATABASE_MIGRATION="True",
        ZENML_ANALYTICS_OPT_IN="false",
    )
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, folder / "server.log")
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the ZenML server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the ZenML server at {url} did not answer /health within {timeout} s")


@contextmanager
def browser_page(base_url: str) -> Iterator[object]:
    """A Playwright page in headless Chromium that may only reach ``base_url``."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (or set ZENBATCH_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base_url) else route.abort())
        context.set_default_timeout(30_000)
        try:
            yield context.new_page()
        finally:
            browser.close()


def open_visualization(page, run_url: str, node_id: str):
    """On a run's page, open an artifact's Visualization tab; returns the card's frame locator.

    ``node_id`` is the artifact's node in the run graph: ``STEP/outputs/step_output/NAME`` for a
    step's output, ``STEP/outputs/manual/VERSION_ID`` for an artifact a step saved itself.
    """
    page.goto(run_url)  # a fresh page: no sheet open, the preview warning asked again
    page.get_by_test_id(f"rf__node-{node_id}").locator("button[data-selected]").click()
    sheet = page.get_by_role("dialog")
    sheet.get_by_role("tab", name="Visualization").click()
    frame, load = sheet.locator(HTML_FRAME), sheet.get_by_role("button", name="Load Preview")
    load.or_(frame).first.wait_for()  # the dashboard asks before it renders HTML it did not make
    if load.is_visible():
        load.click()
    frame.wait_for()
    return sheet.frame_locator(HTML_FRAME)
