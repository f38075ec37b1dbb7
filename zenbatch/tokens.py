"""Offline token counting, the way OpenAI counts prompt tokens.

Uses the encodings that ship inside the ``bpe-openai`` wheel, so nothing is downloaded.
Chat requests are counted as OpenAI documents for the gpt-3.5 / gpt-4 / gpt-4o families:
3 tokens per message, the tokens of each field's value, 1 more when a ``name`` is present,
and 3 for the reply's priming.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson

from zenbatch.errors import TokenizerError

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
# An image's cost depends on its size, which a URL does not tell; these follow OpenAI's
# published tile arithmetic: 85 for detail "low", a 1024x1024 image (4 tiles) otherwise.
IMAGE_TOKENS_LOW = 85
IMAGE_TOKENS_DEFAULT = 765

_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o", "gpt-oss")
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002")
DEFAULT_ENCODING = "o200k_base"


def encoding_for_model(model: str) -> tuple[str, bool]:
    """Return ``(encoding name, exact)`` for a model name.

    ``exact`` is False when the model is unknown (a local model, an Azure deployment name)
    and the default encoding was used: counts are then an approximation. Set the template's
    ``base_model`` to the underlying OpenAI model to count exactly.
    """
    name = model.lower()
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base", True
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base", True
    if name in ("o200k_base", "cl100k_base"):
        return name, True
    return DEFAULT_ENCODING, False


@lru_cache(maxsize=8)
def _counter(encoding: str) -> Callable[[str], int]:
    """Counts a text's tokens: ``bpe_openai``'s native counter (it counts without building the token
    list, about twice as fast), or its public ``Encoding`` when a release moves the native one."""
    try:
        from bpe_openai import _bindings

        count: Callable[[str], int] = _bindings.tokenizer_for_encoding(encoding).count
        return count
    except (ImportError, AttributeError):
        return _public_counter(encoding)
    except Exception as exc:  # the binding raises its own types; name the encoding instead
        raise TokenizerError(f"no offline tokenizer for encoding {encoding!r}: {exc}. Use o200k_base or cl100k_base.") from exc


def _public_counter(encoding: str) -> Callable[[str], int]:
    import bpe_openai

    try:
        encoder = bpe_openai.get_encoding(encoding)
    except Exception as exc:  # the package raises its own types; name the encoding instead
        raise TokenizerError(f"no offline tokenizer for encoding {encoding!r}: {exc}. Use o200k_base or cl100k_base.") from exc
    return lambda text: len(encoder.encode_ordinary(text))


class TokenCounter:
    """Counts tokens of texts and request bodies for one model's encoding."""

    def __init__(self, model: str, encoding: str | None = None):
        if encoding is None:
            encoding, self.exact = encoding_for_model(model)
        else:
            self.exact = True
        self.model = model
        self.encoding = encoding
        self._count = _counter(encoding)

    def count(self, text: str) -> int:
        """Tokens of one text, special-token markers counted as plain text."""
        return self._count(text) if text else 0

    def count_content(self, content: Any) -> int:
        """Tokens of a message's content: a string, or a list of text and image parts."""
        if content is None:
            return 0
        if isinstance(content, str):
            return self._count(content)
        total = 0
        for part in content:
            kind = part.get("type")
            if kind in ("text", "input_text", "output_text"):
                total += self._count(part.get("text", ""))
            elif kind in ("image_url", "input_image"):
                image = part.get("image_url")
                detail = image.get("detail", "auto") if isinstance(image, dict) else part.get("detail", "auto")
                total += IMAGE_TOKENS_LOW if detail == "low" else IMAGE_TOKENS_DEFAULT
        return total

    def count_messages(self, messages: list[dict[str, Any]]) -> int:
        """Prompt tokens of a chat message list, as OpenAI counts them."""
        total = REPLY_PRIMING
        for message in messages:
            total += TOKENS_PER_MESSAGE
            for key, value in message.items():
                if key == "content":
                    total += self.count_content(value)
                elif isinstance(value, str):
                    total += self._count(value)
                if key == "name":
                    total += TOKENS_PER_NAME
        return total

    def count_body(self, endpoint: str, body: dict[str, Any]) -> int:
        """Prompt (input) tokens of one request body for an endpoint."""
        path = endpoint.removeprefix("/v1")
        extra = 0
        response_format = body.get("response_format")
        if isinstance(response_format, dict) and "json_schema" in response_format:
            # The schema is sent to the model as part of the prompt; count its JSON text.
            extra = self._count(orjson.dumps(response_format["json_schema"]).decode())
        if path == "/chat/completions":
            return self.count_messages(body.get("messages") or []) + extra
        if path == "/embeddings":
            value = body.get("input")
            texts = [value] if isinstance(value, str) else list(value or [])
            return sum(self._count(t) for t in texts if isinstance(t, str))
        if path == "/completions":
            value = body.get("prompt")
            texts = [value] if isinstance(value, str) else list(value or [])
            return sum(self._count(t) for t in texts if isinstance(t, str))
        if path == "/responses":
            total = self._count(body.get("instructions") or "")
            value = body.get("input")
            if isinstance(value, str):
                total += self._count(value) + TOKENS_PER_MESSAGE + REPLY_PRIMING
            elif isinstance(value, list):
                total += self.count_messages(value)
            text_format = (body.get("text") or {}).get("format")
            if isinstance(text_format, dict) and "schema" in text_format:
                total += self._count(orjson.dumps(text_format["schema"]).decode())
            return total
        if path == "/moderations":
            value = body.get("input")
            texts = [value] if isinstance(value, str) else list(value or [])
            return sum(self.count_content([t]) if isinstance(t, dict) else self._count(t) for t in texts)
        return self._count(orjson.dumps(body).decode())
