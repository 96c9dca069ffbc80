"""A note to a person about a parse: free text never raises, it gets diagnostics."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from critparse.model.span import FROZEN as _FROZEN


class Diagnostic(BaseModel):
    """Something worth telling a person about a parse: never an exception for free text."""

    model_config = _FROZEN

    level: Literal["info", "warning", "error"]
    code: str = Field(description="Stable machine-readable code, e.g. 'no_threshold'.")
    message: str
