"""scispaCy's rule tokenizer, adjusted so numbers, comparators and units split cleanly.

scispaCy's `combined_rule_tokenizer` is tuned for biomedical prose: it keeps `≤2.0mg/dL` as one
token and cuts `1.5x10^9/L` into `1.5x10 ^ 9/L`. Criteria need the number on its own, the
comparator on its own and the unit on its own, so we add:

* prefixes that peel a leading comparator (`≤`, `<`, `=<`, ...) and a leading number followed by
  anything that is not part of the number (`2.0mg/dL` -> `2.0` `mg/dL`; `3x` -> `3` `x`);
* a prefix for a multiplication sign glued to a power of ten (`x10^9/L` -> `x` `10^9/L`);
* infixes that split comparators and slashes between words (`Hb>9`, `AST/ALT`).

Everything else (hyphenated names, `CD19`, `HbA1c`, `mm3`) keeps scispaCy's behaviour.
"""

from __future__ import annotations

import re
import warnings

from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex

# A number (with thousands separators or a decimal part) glued to what follows it.
_NUMBER_PREFIX = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?=[^\d.,])"
_COMPARATOR_PREFIX = r"(?:<=|>=|=<|=>|≤|≥|⩽|⩾|≦|≧|<|>|=|≠|±|~)"
_TIMES_PREFIX = r"[xX×\*](?=\d)"
# A comparator between two non-space characters (`Hb>9`, `age>=18`).
_COMPARATOR_INFIX = r"(?<=[^\s<>=≤≥])(?:<=|>=|=<|=>|≤|≥|⩽|⩾|<|>|=|≠)(?=[^\s])"
# A slash between letters (`AST/ALT`, `and/or`) but not inside units such as `mg/dL`: units are
# read from the character stream by the extractor, so splitting them does no harm.
_SLASH_INFIX = r"(?<=[A-Za-z)])/(?=[A-Za-z(])"
# A hyphen between letters ('transaminase-alanine'); lexicon phrases are tokenized the same way,
# so 'NT-proBNP' and 'Child-Pugh' still match.
_HYPHEN_INFIX = r"(?<=[A-Za-z])-(?=[A-Za-z])"
# Parentheses glued to words ('AST(SGOT)/ALT(SGPT)').
_PAREN_INFIX = r"(?<=[A-Za-z0-9])\((?=[A-Za-z])|(?<=[A-Za-z])\)(?=[/A-Za-z])"


def make_tokenizer(nlp: Language) -> Tokenizer:
    """Build the adjusted scispaCy tokenizer for `nlp`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # `re` on scispaCy's patterns
        base = combined_rule_tokenizer(nlp)
    prefixes = [_COMPARATOR_PREFIX, _NUMBER_PREFIX, _TIMES_PREFIX, *_patterns(base.prefix_search)]
    infixes = [_COMPARATOR_INFIX, _SLASH_INFIX, _HYPHEN_INFIX, _PAREN_INFIX, *_patterns(base.infix_finditer)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        base.prefix_search = compile_prefix_regex(prefixes).search
        base.infix_finditer = compile_infix_regex(infixes).finditer
    return base


def _patterns(bound_method: object) -> list[str]:
    """The alternatives of the compiled regex behind a tokenizer callback."""
    pattern: re.Pattern[str] = bound_method.__self__  # type: ignore[attr-defined]
    return [pattern.pattern]
