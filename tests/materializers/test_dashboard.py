"""The cards of ``batch_job``, ``batch_results`` and ``evaluation_report`` in the local ZenML
dashboard, read in headless Chromium from the runs of the session's flow (tests/flow.py).

Screenshots are kept in ``test-outputs/dashboard/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.materializers.dashboard_kit import HTML_FRAME, browser_page, dashboard_server, open_visualization

pytestmark = pytest.mark.pipeline
SHOTS = REPO / "test-outputs" / "dashboard"


@pytest.fixture(scope="module")
def dashboard(flow, tmp_path_factory: pytest.TempPathFactory):
    with dashboard_server(tmp_path_factory.mktemp("dashboard")) as url, browser_page(url) as page:
        yield url, page


def _shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000  # a rendered page, not a blank one
    return path


def _fits(page, card, pictures: tuple[str, ...]) -> None:
    """Every table row and every picture is shown whole, inside the card's frame at the dashboard's size."""
    from playwright.sync_api import expect

    frame = page.get_by_role("dialog").locator(HTML_FRAME).bounding_box()
    assert frame is not None and frame["width"] > 400
    for label in pictures:
        picture = card.locator(f"svg[aria-label='{label}']")
        expect(picture).to_be_visible()
        box = picture.bounding_box()
        assert box is not None and box["height"] > 40, label
        assert frame["x"] - 1 <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1, f"{label} is cut off"
        SHOTS.mkdir(parents=True, exist_ok=True)
        picture.screenshot(path=str(SHOTS / f"{label.replace(' ', '_')}.png"))  # scrolled into view, as a user sees it
    for row in card.locator("tr").all():
        expect(row).to_be_attached()
        box = row.bounding_box()
        assert box is not None and box["height"] >= 12 and box["width"] > 0


def _run_of(version) -> str:
    from zenml.client import Client

    return str(Client().get_run_step(version.producer_step_run_id).pipeline_run_id)


def test_the_submit_run_shows_the_batch_job_card(dashboard, flow):
    from playwright.sync_api import expect

    url, page = dashboard
    version = flow.submits["alpha"].steps["submit_batch"].outputs["batch_job"][0]
    job = version.load()
    run_url = f"{url}/projects/default/runs/{flow.submits['alpha'].id}"
    page.goto(run_url)
    expect(page.get_by_test_id("rf__node-step/submit_batch")).to_be_visible()
    card = open_visualization(page, run_url, "submit_batch/outputs/step_output/batch_job")
    expect(card.locator("h1")).to_have_text(f"Batch job {job.name}")
    expect(card.get_by_text(job.job_id).first).to_be_visible()
    expect(card.get_by_text(job.shards[0].batch_id or "no batch id").first).to_be_visible()
    _fits(page, card, ("shard timeline",))
    _shot(page, "batch_job")


def test_the_loader_run_shows_the_batch_results_card(dashboard, flow):
    from playwright.sync_api import expect

    from zenbatch.zenml_ext.registry import newest_of_job

    url, page = dashboard
    version = newest_of_job("batch_results", flow.job_ids["alpha"])
    rows = len(version.load())
    run_url = f"{url}/projects/default/runs/{_run_of(version)}"
    card = open_visualization(page, run_url, f"advance_jobs/outputs/manual/{version.id}")
    expect(card.locator("h1")).to_have_text("Batch results")
    expect(card.get_by_text(f"{rows} rows, one per input row").first).to_be_visible()
    expect(card.get_by_text("Rows by status")).to_be_visible()
    expect(card.get_by_text("Sample answers")).to_be_visible()
    _fits(page, card, ("estimated against actual",))
    _shot(page, "batch_results")


def test_the_evaluation_run_shows_the_evaluation_report_card(dashboard, flow):
    from playwright.sync_api import expect

    url, page = dashboard
    report = flow.evaluation.steps["evaluate_labels"].outputs["evaluation_report"][0].load()
    run_url = f"{url}/projects/default/runs/{flow.evaluation.id}"
    card = open_visualization(page, run_url, "evaluate_labels/outputs/step_output/evaluation_report")
    expect(card.get_by_text(f"{100 * report.accuracy:.1f}%").first).to_be_visible()
    expect(card.get_by_text("Confusion matrix (rows: truth, columns: predicted)")).to_be_visible()
    _fits(page, card, ("confusion matrix", "truth against predicted"))
    _shot(page, "evaluation_report")
