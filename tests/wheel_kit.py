"""zenbatch's wheel, built from the checkout and installed into a fresh venv, once per test session.

The packaging tests run every command from it in a project of the user's, and the rehearsal
runs the whole flow with it: the same code a remote image gets (``pip install zenbatch[...]``),
and none of the checkout on the path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Runs a command to completion; a non-zero exit fails the test with its output."""
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done


@pytest.fixture(scope="session")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A venv holding ``zenbatch[zenml,s3]`` from the built wheel and its declared dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(REPO)], dict(os.environ), root)
    wheel = next(dist.glob("zenbatch-*.whl"))
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], dict(os.environ), root)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[zenml,s3]"], dict(os.environ), root, timeout=900)
    return SimpleNamespace(
        root=venv, bin=venv / "bin", python=venv / "bin" / "python", zenbatch=str(venv / "bin" / "zenbatch"),
        site=next((venv / "lib").glob("python3*/site-packages")),
    )  # fmt: skip
