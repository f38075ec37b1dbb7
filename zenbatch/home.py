"""The local work folder: ``ZENBATCH_HOME``, default ``~/.zenbatch``.

It holds the working copies of jobs (``jobs/<job_id>``: shard inputs, downloaded results) and
the local server's data (``server/``). Nothing in it is the only copy of anything: a job's
state and files live in the artifact store, and a new machine rebuilds the folder on load.
"""

from __future__ import annotations

import os
from pathlib import Path


def local_home() -> Path:
    return Path(os.environ.get("ZENBATCH_HOME", Path.home() / ".zenbatch")).expanduser()


def job_folder(job_id: str) -> Path:
    """The working copy of one job."""
    return local_home() / "jobs" / job_id
