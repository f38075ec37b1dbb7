"""Fault injection, off by default: failing and slow lines, and answers a real provider can give
on a bad day (held replies, slow, lost, truncated, short or malformed files, an unknown status).

Whether a line fails, and with which status, depends only on the seed, the batch id and the
line's custom_id: a restart in the middle of a batch fails the same lines, and a resubmission
(a new batch) draws afresh, as a real transient failure would.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from zenbatch.server.apierror import error_body
from zenbatch.server.engines.base import EngineReply
from zenbatch.server.settings import FaultSettings

_BODIES = {
    429: ("Rate limit reached for requests (fault injected by --fail-rate).", "requests", "rate_limit_exceeded"),
    500: ("The server had an error while processing your request (fault injected by --fail-rate).", "server_error", "server_error"),
    400: ("Invalid request (fault injected by --fail-rate).", "invalid_request_error", "invalid_request"),
}  # fmt: skip
CHUNK = 64 * 1024
MALFORMED_EVERY = 7  # with corrupt_outputs=malformed, every 7th line of an output file is garbage


class FaultInjector:
    """Decides, per line, whether to delay it and whether to answer with an injected failure,
    and shapes the HTTP answers the faults change."""

    def __init__(self, settings: FaultSettings, stopping: threading.Event | None = None):
        self.settings = settings
        self._stopping = stopping or threading.Event()
        self._mix = _cumulative(settings)
        self._served: dict[Path, int] = {}  # downloads of each output file so far (for short_outputs)

    def failure_status(self, batch_id: str, custom_id: str) -> int | None:
        """The status this line fails with, or None when it runs."""
        if not self._mix:
            return None
        digest = hashlib.blake2b(f"{self.settings.seed}:{batch_id}:{custom_id}".encode(), digest_size=8).digest()
        draw = int.from_bytes(digest, "big") / 2**64
        return next((status for status, upper in self._mix if draw < upper), None)

    def should_fail(self, batch_id: str, custom_id: str) -> bool:
        return self.failure_status(batch_id, custom_id) is not None

    def failure(self, status: int | None = None) -> EngineReply:
        status = status or self.settings.fail_status
        message, type_, code = _BODIES[status]
        return EngineReply(status, error_body(message, type_, code))

    def delay(self) -> None:
        if self.settings.line_delay_ms > 0:
            self._stopping.wait(self.settings.line_delay_ms / 1000.0)

    # HTTP answers ------------------------------------------------------------------------------

    async def hold(self, route: Literal["upload", "create"]) -> None:
        """Waits before answering ``route``, its work already done."""
        seconds = self.settings.hold_replies.get(route, 0.0)
        if seconds:
            await asyncio.sleep(seconds)

    def reported_status(self, status: str) -> str:
        return self.settings.report_status or status

    def loses(self, purpose: str) -> bool:
        """Whether a result file's content is answered with 404, as if it had been deleted."""
        return self.settings.lose_outputs and purpose == "batch_output"

    def changes_content(self, purpose: str) -> bool:
        changed = (self.settings.corrupt_outputs is not None or self.settings.short_outputs > 0) and purpose == "batch_output"
        return changed or self.settings.download_bytes_per_second is not None

    def content(self, path: Path, purpose: str) -> tuple[AsyncIterator[bytes], int]:
        """A file's content as the faults serve it, and its length."""
        data = path.read_bytes()
        if purpose == "batch_output" and self.settings.corrupt_outputs == "truncate":
            data = data[: max(1, len(data) * 3 // 5)]
            if data.endswith(b"\n"):
                data = data[:-2]  # cut inside a line, not at its end
        elif purpose == "batch_output" and self._served.setdefault(path, 0) < self.settings.short_outputs:
            self._served[path] += 1
            lines = data.splitlines(keepends=True)
            data = b"".join(lines[: len(lines) - max(1, len(lines) // 5)])
        elif purpose == "batch_output" and self.settings.corrupt_outputs == "malformed":
            lines = data.splitlines(keepends=True)
            data = b"".join(b'{"custom_id": "garbled' + b"\n" if i % MALFORMED_EVERY == MALFORMED_EVERY - 1 else line
                            for i, line in enumerate(lines))  # fmt: skip
        return self._paced(data), len(data)

    async def _paced(self, data: bytes) -> AsyncIterator[bytes]:
        rate = self.settings.download_bytes_per_second
        size = CHUNK if not rate else max(256, int(rate / 20))  # paced in about 20 steps a second
        for start in range(0, len(data), size):
            if rate and start:
                await asyncio.sleep(size / rate)
            yield data[start : start + size]


def _cumulative(settings: FaultSettings) -> list[tuple[int, float]]:
    shares = dict(settings.fail_mix)
    if settings.fail_rate > 0:
        shares[settings.fail_status] = shares.get(settings.fail_status, 0.0) + settings.fail_rate
    bounds, upper = [], 0.0
    for status, share in sorted(shares.items()):
        upper += share
        bounds.append((status, min(upper, 1.0)))
    return [(s, u) for s, u in bounds if u > 0]
