"""A local HTTP stand-in for Vertex AI's schedule endpoints, for the real aiplatform client.

It serves what ``PipelineJobSchedule.list``, ``.state`` and ``.pause()`` call over the REST
transport: ``GET /v1/{parent}/schedules?filter=display_name="..."``, ``GET /v1/{name}`` and
``POST /v1/{name}:pause``. Enums are sent as numbers because the client asks for
``enum-encoding=int``.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Where the tests put their schedules.
PROJECT = "zenbatch-test"
LOCATION = "europe-west4"

STATES = {"ACTIVE": 1, "PAUSED": 2, "COMPLETED": 3}
STATUS_NAMES = {400: "FAILED_PRECONDITION", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
DISPLAY_NAME = re.compile(r'^display_name="((?:[^"\\]|\\.)*)"$')


class FakeVertex:
    """Vertex schedules kept in memory, served on a free local port.

    Attributes:
        schedules: schedule resources by resource name, as Vertex returns them.
        requests: ``(method, path)`` of every request, in order.
        pause_status: when set, every pause answers with this HTTP error status.
        on_pause: called with the resource name before a pause is applied.
    """

    def __init__(self) -> None:
        self.schedules: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.pause_status: int | None = None
        self.on_pause: Callable[[str], None] | None = None
        self._ids = itertools.count(1000)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeVertex:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.schedules.clear()
        self.requests.clear()
        self.pause_status = None
        self.on_pause = None

    def add(self, project: str, location: str, display_name: str, state: str = "ACTIVE") -> str:
        """Adds a schedule as ZenML's vertex orchestrator creates it; returns its resource name."""
        parent = f"projects/{project}/locations/{location}"
        name = f"{parent}/schedules/{next(self._ids)}"
        self.schedules[name] = {
            "name": name,
            "displayName": display_name,
            "state": STATES[state],
            "cron": "*/5 * * * *",
            "maxConcurrentRunCount": "1",
            "createPipelineJobRequest": {"parent": parent, "pipelineJob": {"displayName": display_name}},
        }
        return name

    def state(self, name: str) -> str:
        number = self.schedules[name]["state"]
        return next(key for key, value in STATES.items() if value == number)

    def _list(self, parent: str, query: str) -> tuple[int, dict[str, Any]]:
        wanted = None
        if filters := parse_qs(query).get("filter"):
            match = DISPLAY_NAME.match(filters[0])
            if match is None:
                return _error(400, f"unsupported filter {filters[0]!r}")
            wanted = re.sub(r"\\(.)", r"\1", match.group(1))
        found = [
            schedule
            for name, schedule in self.schedules.items()
            if name.startswith(f"{parent}/schedules/") and wanted in (None, schedule["displayName"])
        ]
        return 200, {"schedules": found}

    def _pause(self, name: str) -> tuple[int, dict[str, Any]]:
        if name not in self.schedules:
            return _error(404, f"schedule {name} not found")
        if self.pause_status is not None:
            return _error(self.pause_status, "the caller may not pause schedules")
        if self.schedules[name]["state"] != STATES["ACTIVE"]:
            return _error(400, "only an ACTIVE schedule can be paused")
        if self.on_pause is not None:
            self.on_pause(name)
        self.schedules[name]["state"] = STATES["PAUSED"]
        return 200, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                fake.requests.append(("GET", url.path))
                path = url.path.removeprefix("/v1/")
                if path.endswith("/schedules"):
                    self._answer(*fake._list(path.removesuffix("/schedules"), url.query))
                elif path in fake.schedules:
                    self._answer(200, fake.schedules[path])
                else:
                    self._answer(*_error(404, f"{path} not found"))

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                fake.requests.append(("POST", url.path))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = url.path.removeprefix("/v1/")
                if path.endswith(":pause"):
                    self._answer(*fake._pause(path.removesuffix(":pause")))
                else:
                    self._answer(*_error(404, f"{path} not served by this fake"))

        return Handler


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}}
