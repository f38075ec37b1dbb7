"""The local ZenML dashboard over the session's isolated store, and headless Chromium to read it.

The server is ZenML's own app under uvicorn, started as ``zenml login --local`` starts it
(no authentication, local deployment) but on a free port and against the test store; the
browser is Debian's Chromium driven by Playwright, with every request that leaves 127.0.0.1
aborted (the dashboard asks the internet for avatars and news).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.zenml_server import zenml_server

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
    with zenml_server(folder, GlobalConfiguration().local_stores_path, existing_store=True) as url:  # the tests' SQLite file
        yield url


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
