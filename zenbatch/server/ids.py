"""Object ids, and the only way an id becomes a path: ids that cannot escape the data dir."""

from __future__ import annotations

import re
import secrets
import string
from pathlib import Path

_ALPHABET = string.ascii_letters + string.digits
FILE_ID = re.compile(r"file-[A-Za-z0-9]{8,64}")
BATCH_ID = re.compile(r"batch_[A-Za-z0-9]{8,64}")


def _token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_file_id() -> str:
    return f"file-{_token(22)}"


def new_batch_id() -> str:
    return f"batch_{secrets.token_hex(16)}"


def new_request_id() -> str:
    return f"req_{secrets.token_hex(16)}"


def new_line_id() -> str:
    return f"batch_req_{secrets.token_hex(16)}"


def is_file_id(value: str) -> bool:
    return FILE_ID.fullmatch(value) is not None


def is_batch_id(value: str) -> bool:
    return BATCH_ID.fullmatch(value) is not None


def file_path(files_dir: Path, file_id: str) -> Path:
    """Where a file's bytes live; refuses anything that is not a well-formed file id.

    Raises:
        ValueError: ``file_id`` is not a file id (so it can never name a path outside ``files_dir``).
    """
    if not is_file_id(file_id):
        raise ValueError(f"not a file id: {file_id!r}")
    return files_dir / f"{file_id}.jsonl"
