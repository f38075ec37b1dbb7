"""zenbatch as a user gets it: a wheel installed into a fresh venv, used from a ZenML project of
one's own that has its own ``steps``, ``pipelines`` and ``materializers`` packages.

Nothing of the checkout is on the path: the wheel is built from it, installed with its declared
dependencies (``zenbatch[zenml]``) into a new venv, and every command runs in its own process from
the project folder with a fresh ``HOME``, ZenML config and ``ZENBATCH_HOME``. Every command uses
its shipped defaults (the sample job, the local provider at 127.0.0.1:8000), and the project's
own pipeline (this repository's ``pipelines/reviews.py``, copied in) composes zenbatch's steps
with a step of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from types import SimpleNamespace

import orjson
import pandas as pd
import pytest

from tests.conftest import REPO
from tests.helpers import listening
from tests.wheel_kit import run

pytestmark = pytest.mark.pipeline
DEFAULT_PORT = 8000  # the shipped local provider's address
SAMPLE_ROWS = 300


@pytest.fixture(scope="module")
def installed(wheel_venv: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The wheel's venv, a user's project folder, and the environment a user has there."""
    root = tmp_path_factory.mktemp("project")
    project = root / "project"
    for package in ("steps", "pipelines", "configs"):  # this repository's own ZenML face, as a user's project
        shutil.copytree(REPO / package, project / package)
    shutil.copy(REPO / "run.py", project / "run.py")
    (project / "materializers").mkdir()
    (project / "materializers" / "__init__.py").write_text('"""The project\'s own materializers."""\n')
    home = root / "home"
    home.mkdir()
    env = {
        "PATH": f"{wheel_venv.bin}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
        "ZENML_CONFIG_PATH": str(home / "zenml"), "ZENBATCH_HOME": str(home / "zenbatch"),
        "ZENML_ANALYTICS_OPT_IN": "false", "ZENML_ENABLE_RICH_TRACEBACK": "false", "ZENML_LOGGING_VERBOSITY": "WARN",
    }  # fmt: skip
    return SimpleNamespace(python=wheel_venv.python, zenbatch=wheel_venv.zenbatch, project=project, env=env,
                           venv=wheel_venv.root, site=wheel_venv.site)  # fmt: skip


@pytest.fixture(scope="module")
def server(installed: SimpleNamespace) -> Iterator[str]:
    """``zenbatch serve --engine echo`` from the venv, on the shipped local provider's port."""
    if listening(DEFAULT_PORT):
        pytest.fail(f"port {DEFAULT_PORT} is taken: the shipped local provider config points there; stop what listens on it")
    process = subprocess.Popen([installed.zenbatch, "serve", "--engine", "echo"], env=installed.env, cwd=installed.project,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
    base_url = f"http://127.0.0.1:{DEFAULT_PORT}/v1"
    deadline = time.monotonic() + 60
    while not listening(DEFAULT_PORT):
        assert process.poll() is None, f"zenbatch serve exited: {process.stderr.read().decode() if process.stderr else ''}"
        assert time.monotonic() < deadline, "zenbatch serve did not listen within 60 s"
        time.sleep(0.2)
    try:
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _wait_for_batches(base_url: str, count: int) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key="unused")
    deadline = time.monotonic() + 120
    while True:
        batches = client.batches.list(limit=100).data
        if len(batches) >= count and all(b.status == "completed" for b in batches):
            return
        assert time.monotonic() < deadline, f"batches did not complete: {[(b.id, b.status) for b in batches]}"
        time.sleep(0.5)


def test_the_wheel_holds_only_the_zenbatch_namespace_and_its_configs(installed):
    site = installed.site
    top_level = {p.name for p in site.iterdir() if p.name in {"steps", "pipelines", "materializers", "configs", "data"}}
    assert not top_level, f"the wheel installs top-level packages a user's project owns: {top_level}"
    shipped = {p.relative_to(site / "zenbatch" / "configs").as_posix() for p in (site / "zenbatch" / "configs").rglob("*.yaml")}
    assert {"jobs/reviews.yaml", "providers/openai.yaml", "pipelines/submit.yaml", "stacks/vertex.yaml"} <= shipped
    assert (site / "zenbatch" / "data" / "reviews.csv").is_file()


def test_every_command_works_with_its_defaults_from_a_project_of_ones_own(installed, server):
    def cli(*args, **kw):
        return run([installed.zenbatch, *args], installed.env, installed.project, **kw)

    found = run([str(installed.python), "-c", "import zenbatch, steps; print(zenbatch.__file__); print(steps.__file__)"],
                 installed.env, installed.project).stdout.split()  # fmt: skip
    assert "site-packages" in found[0] and found[1] == str(installed.project / "steps" / "__init__.py")

    run([str(installed.venv / "bin" / "zenml"), "init"], installed.env, installed.project)
    assert "zenbatch-local" in cli("init").stdout
    listed = cli("init", "--configs").stdout
    assert "site-packages/zenbatch/configs/providers/openai.yaml" in listed

    estimate = orjson.loads(cli("estimate", "--config", "reviews", "--json").stdout)
    assert estimate["ok"] and estimate["requests"] == SAMPLE_ROWS

    submitted = orjson.loads(cli("submit", "--json").stdout)
    assert submitted["requests"] == SAMPLE_ROWS and len(submitted["batch_ids"]) == 1
    _wait_for_batches(server, 1)
    assert "collected 1 job(s); 0 still open" in cli("collect").stdout

    status = orjson.loads(cli("status", "--json").stdout)
    job = next(j for j in status if j["job_id"] == submitted["job_id"])
    assert job["state"] == "collected" and job["results"]["succeeded"] == SAMPLE_ROWS
    out = installed.project / "rows.csv"
    cli("results", "--out", str(out))
    assert len(pd.read_csv(out)) == SAMPLE_ROWS
    assert "labeled_dataset version" in cli("label").stdout

    demo = orjson.loads(cli("demo", "--engine", "echo", "--json").stdout)
    assert demo["already_collected"] and demo["rows"]["succeeded"] == SAMPLE_ROWS  # the same job, not paid again

    via_module = run([str(installed.python), "-m", "zenbatch", "status", "--json"], installed.env, installed.project)
    assert submitted["job_id"] in via_module.stdout


def test_the_projects_own_pipeline_composes_zenbatchs_steps(installed, server):
    # Runs after the defaults test: the stack is initialised and the sample job is collected.
    run([str(installed.python), "run.py"], installed.env, installed.project)
    run([installed.zenbatch, "collect"], installed.env, installed.project)
    status = orjson.loads(run([installed.zenbatch, "status", "--json"], installed.env, installed.project).stdout)
    cleaned = [j for j in status if j["results"].get("rows") == 282]
    assert len(cleaned) == 1, status
    # The project's step dropped the reviews shorter than 25 characters (configs/reviews.yaml), and
    # the sample job answered every one of them before: nothing was sent again.
    assert cleaned[0]["state"] == "collected" and cleaned[0]["results"]["succeeded"] == 282 and cleaned[0]["requests"] == 0
    from openai import OpenAI

    assert len(OpenAI(base_url=server, api_key="unused").batches.list(limit=100).data) == 1  # the sample job's batch only
