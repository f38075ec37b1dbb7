"""Engines run request lines: ``echo`` (instant), ``llama-cpp`` (a local model), ``forward``."""

from __future__ import annotations

from zenbatch.server.engines.base import Engine, EngineReply, EngineStopped
from zenbatch.server.settings import ServerSettings

__all__ = ["Engine", "EngineReply", "EngineStopped", "make_engine"]


def make_engine(settings: ServerSettings) -> Engine:
    """Build the engine the settings name; heavy imports happen only for the chosen one."""
    if settings.engine == "echo":
        from zenbatch.server.engines.echo import EchoEngine

        return EchoEngine()
    if settings.engine == "forward":
        from zenbatch.server.engines.forward import ForwardEngine

        return ForwardEngine.from_env(
            settings.forward_url, settings.forward_key_env, retries=settings.forward_retries,
            timeout=settings.forward_timeout, concurrency=settings.workers, backoff=settings.forward_backoff,
        )  # fmt: skip
    from zenbatch.server.engines.llama_cpp import LlamaCppEngine

    return LlamaCppEngine(settings.model_path, n_ctx=settings.n_ctx)
