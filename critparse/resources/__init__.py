"""Bundled vocabularies and tables (data files; each file's `_about` describes its shape).

`load_resource` is the one way to read them: bundled when no path is given, validated against a
pydantic model, every problem reported at once with the valid keys.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from critparse.errors import ResourceError, format_validation_error

Model = TypeVar("Model", bound=BaseModel)


def read_resource_json(name: str, path: str | Path | None = None) -> Any:
    """The parsed JSON of a bundled resource (or of `path`); ResourceError when unreadable."""
    where = str(path) if path is not None else f"critparse/resources/{name}"
    try:
        if path is None:
            raw = resources.files(__name__).joinpath(name).read_text("utf-8")
        else:
            raw = Path(path).read_text("utf-8")
        return json.loads(raw)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResourceError(f"{where}: cannot read: {exc}") from exc


def load_resource(
    model: type[Model], name: str, path: str | Path | None = None, *, context: dict[str, Any] | None = None
) -> Model:
    """Read a JSON resource and validate it against `model`, listing every problem.

    `context` reaches the model's validators (e.g. a UCUM checker for unit codes).
    """
    data = read_resource_json(name, path)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        where = str(path) if path is not None else f"critparse/resources/{name}"
        valid = ", ".join(sorted(model.model_fields))
        raise ResourceError(
            f"{where}: {format_validation_error(exc)} (valid keys: {valid})"
        ) from exc
