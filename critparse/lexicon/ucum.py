"""UCUM unit codes, read by ucumvert into pint quantities.

ucumvert's parser costs about a millisecond a call, so every code is parsed once per registry.
The registry itself takes about a second to build; `Resources.ucum` builds it on first use.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from critparse.errors import UnitConversionError


class UcumUnits:
    """A ucumvert/pint registry with a cache of parsed codes."""

    def __init__(self) -> None:
        from ucumvert import PintUcumRegistry

        self.registry: Any = PintUcumRegistry()
        self.quantity = lru_cache(maxsize=4096)(self._parse)

    def _parse(self, code: str) -> Any:
        """`code` as a pint quantity; UnitConversionError when it is not UCUM."""
        try:
            parsed = self.registry.from_ucum(code)
        except Exception as exc:  # ucumvert raises lark and pint errors of several kinds
            raise UnitConversionError(f"{code!r} is not a UCUM unit code") from exc
        if not hasattr(parsed, "units"):
            # A bare annotation such as '{score}' is the unity in UCUM.
            return self.registry.Quantity(1)
        return parsed

    def is_ucum(self, code: str) -> bool:
        """True when ucumvert parses `code`."""
        try:
            self.quantity(code)
        except UnitConversionError:
            return False
        return True
