"""Image values for multimodal requests: URLs pass through, local files become data URLs."""

from __future__ import annotations

import base64
from pathlib import Path

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIME_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


def is_url(value: str) -> bool:
    return value.startswith(("https://", "http://", "data:image/"))


def resolve(value: str, root: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def check_image(value: object, root: Path) -> str | None:
    """Why an image value cannot be sent, or None when it can."""
    if not isinstance(value, str) or not value.strip():
        return "the image is empty; give a URL or a local file path"
    if is_url(value):
        if value.startswith("data:") and ";base64," not in value:
            return "a data URL must be base64 encoded (data:image/png;base64,...)"
        return None
    path = resolve(value, root)
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        return f"{path.name}: unsupported image type {path.suffix!r}; use png, jpeg, gif or webp"
    if not path.is_file():
        return f"image file {path} does not exist; fix the path or set image_root"
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return f"image file {path} is {size:,} bytes; the limit is {MAX_IMAGE_BYTES:,}: shrink or re-compress it"
    with path.open("rb") as handle:
        head = handle.read(16)
    if not head.startswith(_MAGIC[mime]):
        return f"image file {path} is not a valid {mime} file; re-save it in the format its name says, or rename it"
    return None


def to_url(value: str, root: Path) -> str:
    """The URL to send: the value itself, or a base64 data URL of a local file."""
    if is_url(value):
        return value
    path = resolve(value, root)
    mime = MIME_TYPES[path.suffix.lower()]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
