"""The enqueued-token backoff: a shard the provider refused for a full queue waits, 5 s doubling to 10 min.

Refusals come two ways, both handled with :func:`back_off`: ``create`` answers 429 with
``token_limit_exceeded`` (``submit``), or the batch is created and then fails validation with
that code (``poll``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zenbatch.jobs import JobShard

TOKEN_LIMIT = "token_limit_exceeded"
BACKOFF_START = 5.0
BACKOFF_CAP = 600.0


def back_off(shard: JobShard, now: float, refused: str = "its queue is full") -> None:
    """Schedule the shard's next submission: 5 s, doubling, capped; ``refused`` says why the provider refused it."""
    shard.backoff_seconds = min(BACKOFF_CAP, shard.backoff_seconds * 2 if shard.backoff_seconds else BACKOFF_START)
    shard.not_before = now + shard.backoff_seconds
    shard.deferred = f"the provider refused it ({refused}); tried again from {time.strftime('%H:%M:%S UTC', time.gmtime(shard.not_before))}"
