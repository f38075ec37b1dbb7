"""Config files: YAML read into typed models, every error naming the file, the key and what to do.

Every config of zenbatch (jobs, providers, templates, pipeline configs, step settings) is loaded
here: ``load_yaml`` reads a mapping from a file, ``from_mapping`` validates it into a model and
turns pydantic's errors into one ``ConfigError`` that names where it came from and each bad key
(for an unknown key, the keys that are known there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

from zenbatch.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping at the top level")
    return data


def from_mapping(model: type[M], data: dict[str, Any], where: str) -> M:
    """Validate a mapping into a model, naming the file and each bad key on failure."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {_error_text(model, err)}" for err in exc.errors())
        raise ConfigError(f"invalid {model.__name__} in {where}: {details}") from None


def _error_text(model: type[BaseModel], err: Any) -> str:
    """pydantic's message, with what to do for an unknown key and without its 'Value error, ' prefix."""
    if err["type"] == "extra_forbidden":
        known = _known_keys(model, err["loc"][:-1])
        return "unknown key; remove it or fix its spelling" + (f" (known keys: {', '.join(known)})" if known else "")
    return str(err["msg"]).removeprefix("Value error, ")


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found at ``loc`` below ``model`` (empty when not a model)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):  # an item of a list
            continue
        field = current.model_fields.get(str(part)) if current is not None else None
        current = _model_in(field.annotation) if field is not None else None
    return [f.alias or name for name, f in current.model_fields.items()] if current is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (``X``, ``X | None``, ``list[X]``), if any."""
    import typing

    args = typing.get_args(annotation)
    if not args:
        return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return next((found for arg in args if (found := _model_in(arg)) is not None), None)
