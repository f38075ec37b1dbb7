"""The local OpenAI-compatible batch server (``zenbatch serve``).

Speaks the OpenAI Files and Batches protocol (and Azure's paths) and runs each request line
with an engine: a local GGUF model through llama-cpp, an OpenAI-compatible server without a
batch API (forward), or instant echo answers for tests. State lives in SQLite and a files dir,
so a restart resumes unfinished batches.

Modules: ``settings`` (options), ``app`` (routes), ``service`` (operations), ``uploads``,
``store`` (SQLite), ``validation``, ``scheduler`` (states), ``worker`` (lines), ``records``
(output line shapes), ``finalize`` (output files), ``faults``, ``engines/``, ``local``
(LocalBatchServer), ``run`` (the CLI's foreground server).
"""

from zenbatch.server.local import LocalBatchServer
from zenbatch.server.settings import FaultSettings, ServerSettings

__all__ = ["FaultSettings", "LocalBatchServer", "ServerSettings"]
