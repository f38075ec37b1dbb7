"""One rehearsal stack for the whole session (see ``kit.py``): its set-up costs about half a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rehearsal.kit import Rehearsal, rehearsal_stack


@pytest.fixture(scope="session")
def rehearsal(wheel_venv, moto_server, tmp_path_factory) -> Iterator[Rehearsal]:
    yield from rehearsal_stack(wheel_venv, moto_server, tmp_path_factory.mktemp("rehearsal"))
