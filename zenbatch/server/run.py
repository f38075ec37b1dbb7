"""Runs the batch server in the foreground until SIGINT or SIGTERM (``zenbatch serve``)."""

from __future__ import annotations

import logging

import uvicorn

from zenbatch.server.app import create_app
from zenbatch.server.service import BatchService
from zenbatch.server.settings import ServerSettings

log = logging.getLogger("zenbatch.server")


def serve(settings: ServerSettings) -> None:
    """Load the engine, then serve until interrupted; a stop lets running lines finish."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    service = BatchService(settings)
    app = create_app(service, manage_service=True)
    url = f"http://{settings.host}:{settings.port}"
    log.info("OpenAI base_url %s/v1 ; Azure azure_endpoint %s (v1 API: %s/openai/v1) ; auth %s",
             url, url, url, "required" if settings.api_key else "off")  # fmt: skip
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
