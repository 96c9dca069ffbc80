"""scispaCy's abbreviation detector, run only where it can find something.

The detector (Schwartz & Hearst 2003, as implemented in `scispacy.abbreviation`) only finds
definitions written `long form (SF)` or `SF (long form)`, so a text without a parenthesis has none;
skipping those texts saves a third of the pipeline's time on typical criteria. It runs with
`make_serializable=True` so that `doc._.abbreviations` survives `DocBin` and `n_process`.
"""

from __future__ import annotations

import warnings

from scispacy.abbreviation import AbbreviationDetector
from spacy.language import Language
from spacy.tokens import Doc

from critparse.nlp.doc_keys import ABBREVIATIONS_DONE_KEY, doc_text

# The detector's second matcher is filled per document and is empty until a definition is found;
# spaCy warns about the empty matcher (W036) on every call.
warnings.filterwarnings("ignore", message=r".*\[W036\].*", category=UserWarning)


@Language.factory("critparse_abbreviations", assigns=["doc._.abbreviations"])
def make_abbreviation_detector(nlp: Language, name: str) -> ParenthesisAbbreviationDetector:
    return ParenthesisAbbreviationDetector(nlp, name)


class ParenthesisAbbreviationDetector:
    def __init__(self, nlp: Language, name: str = "critparse_abbreviations") -> None:
        self.name = name
        self._detector = AbbreviationDetector(nlp, name, make_serializable=True)

    def __call__(self, doc: Doc) -> Doc:
        if not doc.user_data.get(ABBREVIATIONS_DONE_KEY):
            doc.user_data[ABBREVIATIONS_DONE_KEY] = True
            # the detector's own matcher starts at a '(' token; without one it finds nothing
            if "(" in doc_text(doc):
                self._detector(doc)
        return doc
