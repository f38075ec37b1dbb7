"""The forward engine: each line becomes one realtime call to an OpenAI-compatible server.

Gives a batch API to servers that have none (llama.cpp's server, vLLM, Ollama). Concurrency is
bounded by the server's workers (each runs one call at a time) and by the connection pool.
429, 5xx and connection errors are retried with exponential backoff, honouring Retry-After.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import httpx
import orjson

from zenbatch.server.apierror import ServerError, error_body
from zenbatch.server.engines.base import Engine, EngineReply, EngineStopped

_MAX_BACKOFF = 30.0


class ForwardEngine(Engine):
    """Sends each request body to ``base_url`` + the endpoint (``/v1`` is the base URL's)."""

    name = "forward"

    def __init__(
        self, base_url: str, *, api_key: str | None = None, retries: int = 4, timeout: float = 600.0, concurrency: int = 8, backoff: float = 0.5
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ServerError(f"--forward-url must be an http(s) URL such as http://127.0.0.1:8080/v1; got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            timeout=timeout,
            headers=headers,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._closed = threading.Event()

    @classmethod
    def from_env(cls, base_url: str | None, key_env: str, **kwargs: Any) -> ForwardEngine:
        if not base_url:
            raise ServerError("the forward engine needs --forward-url (the OpenAI-compatible base URL, ending in /v1)")
        return cls(base_url, api_key=os.environ.get(key_env) or None, **kwargs)

    def execute(self, endpoint: str, body: dict[str, Any]) -> EngineReply:
        url = self.base_url + endpoint.removeprefix("/v1")
        payload = orjson.dumps(body)
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._client.post(url, content=payload, headers={"Content-Type": "application/json"})
            except httpx.TransportError as exc:
                if self._closed.is_set():
                    raise EngineStopped("the server is stopping; the line will run after a restart") from exc
                if last:
                    return EngineReply(
                        502,
                        error_body(
                            f"The forward server at {self.base_url} could not be reached after {attempt + 1} attempt(s): "
                            f"{type(exc).__name__}. Check that it is running.",
                            "server_error",
                            "upstream_unreachable",
                        ),
                    )
                self._sleep(self._delay(attempt, None))
                continue
            if (response.status_code == 429 or response.status_code >= 500) and not last:
                self._sleep(self._delay(attempt, response.headers.get("retry-after")))
                continue
            return EngineReply(response.status_code, _json_body(response))
        raise AssertionError("unreachable: the last attempt always returns")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), _MAX_BACKOFF)
            except ValueError:
                pass
        return float(min(self.backoff * 2**attempt, _MAX_BACKOFF))

    def _sleep(self, seconds: float) -> None:
        # Waits on the closed event so a shutdown does not sit out a long backoff; the line is
        # then left undone, to run after a restart, rather than recorded as failed.
        if self._closed.wait(seconds):
            raise EngineStopped("the server is stopping; the line will run after a restart")

    def interrupt(self) -> None:
        self._closed.set()

    def close(self) -> None:
        self._closed.set()
        self._client.close()


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        return body
    return error_body(
        f"The forward server answered HTTP {response.status_code} with a body that is not a JSON object.",
        "server_error" if response.status_code >= 500 else "invalid_request_error",
        "invalid_upstream_response",
    )
