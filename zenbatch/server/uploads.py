"""``POST /v1/files``: a multipart upload streamed to disk, refused once it passes the size limit.

The body is parsed as it arrives; the file part goes straight to a temporary file in the data
dir, other fields (``purpose``, ``expires_after[...]``) are small and kept. Nothing holds the
whole upload in memory. A declared Content-Length over the limit is refused before reading.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header

from zenbatch.server.apierror import ApiError, invalid

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
MAX_FIELD_BYTES = 4096


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"The file is larger than this server's upload limit of {limit:,} bytes; split it into smaller "
        "batch files, or start the server with a larger --max-upload-mb.",
        code="file_too_large",
        param="file",
    )


def plain_name(filename: str) -> str:
    """The last part of a client's file name, whichever separator it used, without control
    characters: the name is echoed back to clients, so it must never read as a path."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch >= " " and ch != "\x7f")


@dataclass
class Upload:
    """A received upload: its form fields and the temporary file holding its bytes."""

    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    path: Path | None = None
    size: int = 0
    over_limit: bool = False

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


class _Receiver:
    """The parser's callbacks: route each part's bytes to a field or to the temporary file."""

    def __init__(self, upload: Upload, tmp_dir: Path, limit: int):
        self.upload = upload
        self.tmp_dir = tmp_dir
        self.limit = limit
        self._header_field = b""
        self._header_value = b""
        self._disposition: bytes = b""
        self._name: str | None = None
        self._value = bytearray()
        self._handle: IO[bytes] | None = None

    def callbacks(self) -> Any:  # python-multipart's MultipartCallbacks
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._append("_header_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._append("_header_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _append(self, attr: str, data: bytes) -> None:
        setattr(self, attr, getattr(self, attr) + data)

    def _part_begin(self) -> None:
        self._disposition, self._name, self._value = b"", None, bytearray()

    def _header_end(self) -> None:
        if self._header_field.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_field, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file":
            self.upload.filename = plain_name(params.get(b"filename", b"").decode("utf-8", "replace"))
            self.upload.path = self.tmp_dir / f".upload-{secrets.token_hex(8)}.part"
            self._handle = open(self.upload.path, "wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name == "file" and self._handle is not None:
            self.upload.size += end - start
            if self.upload.size > self.limit:
                # Keep parsing (the client is still sending) but stop storing.
                self.upload.over_limit = True
                self._handle.close()
                self._handle = None
                self.upload.discard()
                return
            self._handle.write(data[start:end])
        elif self._name != "file" and len(self._value) < MAX_FIELD_BYTES:
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._name == "file":
            if self._handle is not None:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()
                self._handle = None
        elif self._name:
            self.upload.fields[self._name] = self._value.decode("utf-8", "replace")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


async def receive_upload(content_type: str | None, content_length: str | None, chunks: AsyncIterator[bytes], tmp_dir: Path, limit: int) -> Upload:
    """Parse a multipart upload into an Upload whose file sits in ``tmp_dir``.

    Raises:
        ApiError: not multipart (400), or the file is over ``limit`` bytes (413).
    """
    mime, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise invalid("Uploads must be multipart/form-data with a 'file' and a 'purpose' field.", "file")
    if content_length and content_length.isdigit() and int(content_length) > limit + MULTIPART_OVERHEAD:
        raise too_large(limit)
    upload = Upload()
    receiver = _Receiver(upload, tmp_dir, limit)
    parser = MultipartParser(boundary, receiver.callbacks())
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except ApiError:
        receiver.close()
        upload.discard()
        raise
    except ValueError as exc:  # python-multipart's parse errors derive from ValueError
        receiver.close()
        upload.discard()
        raise invalid(f"The multipart body could not be parsed: {exc}.", "file") from exc
    receiver.close()
    if upload.over_limit:
        raise too_large(limit)
    return upload
