"""One object holding every vocabulary and table critparse reads, passed to whatever needs it.

Each part loads on first use, so screening a patient never builds the parser's regular
expressions and parsing never builds pint's registry. `default_resources()` is the one cached
default; a `Resources` built with custom files (an analyte lexicon, a lab's limits of normal, a
conversion table) carries them to the parser and the screener alike.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

from critparse.lexicon.analytes import AnalyteLexicon, load_analytes
from critparse.lexicon.concepts import ConceptLexicon, load_concept_lexicon
from critparse.lexicon.conversions import ConversionTable, load_conversions
from critparse.lexicon.normal_limits import NormalLimitTable, load_uln_table
from critparse.lexicon.sections import SectionVocabulary, compile_sections, load_sections
from critparse.lexicon.ucum import UcumUnits
from critparse.lexicon.vocabulary import Vocabulary, WordLists, load_vocabulary, load_words

PathLike = str | Path
T = TypeVar("T")


class Resources:
    """The parser's and the screener's data; give an object or a path to replace a default."""

    def __init__(
        self,
        *,
        analytes: AnalyteLexicon | PathLike | None = None,
        conversions: ConversionTable | PathLike | None = None,
        normal_limits: NormalLimitTable | PathLike | None = None,
        concepts: ConceptLexicon | PathLike | None = None,
        sections: PathLike | None = None,
        vocabulary: Vocabulary | None = None,
        words: PathLike | None = None,
    ) -> None:
        self._analytes = analytes
        self._conversions = conversions
        self._normal_limits = normal_limits
        self._concepts = concepts
        self._sections = sections
        self._vocabulary = vocabulary
        self._words = words
        self._memo: dict[str, Any] = {}
        self.normal_limits_source = (
            "default table" if normal_limits is None
            else str(normal_limits) if isinstance(normal_limits, (str, Path))
            else "custom table"
        )
        """How screening reasons name the limits-of-normal table."""

    @cached_property
    def analytes(self) -> AnalyteLexicon:
        if isinstance(self._analytes, AnalyteLexicon):
            return self._analytes
        return load_analytes(self._analytes)

    @cached_property
    def words(self) -> WordLists:
        """The extraction grammar's word lists (`words.json`)."""
        return self._vocabulary.words if self._vocabulary is not None else load_words(self._words)

    @cached_property
    def concepts(self) -> ConceptLexicon:
        """The concept vocabulary (conditions, drugs, procedures, ...) and its matcher."""
        if isinstance(self._concepts, ConceptLexicon):
            return self._concepts
        return load_concept_lexicon(None if self._concepts is None else Path(self._concepts))

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return self._vocabulary if self._vocabulary is not None else load_vocabulary(words=self.words)

    @cached_property
    def ucum(self) -> UcumUnits:
        return UcumUnits()

    @cached_property
    def conversions(self) -> ConversionTable:
        if isinstance(self._conversions, ConversionTable):
            return self._conversions
        return load_conversions(self._conversions, is_ucum=self.ucum.is_ucum)

    @cached_property
    def normal_limits(self) -> NormalLimitTable:
        if isinstance(self._normal_limits, NormalLimitTable):
            return self._normal_limits
        return load_uln_table(self._normal_limits, is_ucum=self.ucum.is_ucum)

    @cached_property
    def sections(self) -> SectionVocabulary:
        return compile_sections(load_sections(self._sections))

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """A value derived from these resources (a unit converter, a matcher), built once.

        Lets the layers above keep their derived objects here without this module importing them.
        """
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[no-any-return]


@cache
def default_resources() -> Resources:
    """The bundled resources, created once (each part still loads on first use)."""
    return Resources()


__all__ = ["Resources", "default_resources"]
