"""Fault injection: failing lines, slow lines; off by default.

Whether a line fails depends only on the seed, the batch id and the line's custom_id: a restart
in the middle of a batch fails the same lines, and a resubmission (a new batch) draws afresh, as
a real transient failure would.
"""

from __future__ import annotations

import hashlib
import threading

from zenbatch.server.apierror import error_body
from zenbatch.server.engines.base import EngineReply
from zenbatch.server.settings import FaultSettings

_BODIES = {
    429: ("Rate limit reached for requests (fault injected by --fail-rate).", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request (fault injected by --fail-rate).", "server_error", "server_error"),
    400: ("Invalid request (fault injected by --fail-rate).", "invalid_request_error", "invalid_request"),
}  # fmt: skip


class FaultInjector:
    """Decides, per line, whether to delay it and whether to answer with an injected failure."""

    def __init__(self, settings: FaultSettings, stopping: threading.Event | None = None):
        self.settings = settings
        self._stopping = stopping or threading.Event()

    def should_fail(self, batch_id: str, custom_id: str) -> bool:
        rate = self.settings.fail_rate
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        digest = hashlib.blake2b(f"{self.settings.seed}:{batch_id}:{custom_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < rate

    def failure(self) -> EngineReply:
        status = self.settings.fail_status
        message, type_, code = _BODIES[status]
        return EngineReply(status, error_body(message, type_, code))

    def delay(self) -> None:
        if self.settings.line_delay_ms > 0:
            self._stopping.wait(self.settings.line_delay_ms / 1000.0)
