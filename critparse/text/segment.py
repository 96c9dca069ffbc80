"""Split a whole eligibility text block into sections, headers, paragraphs and (nested) bullets.

Two pure steps, both linear in the length of the text:

1. `classify_line` looks at one line on its own: blank, section header (from the patterns in
   `resources/sections.json`), bullet (a symbol or an enumerator such as `1.`, `b)`, `(iv)`) or
   plain text, with its indentation and its character offsets.
2. `split_eligibility` walks the classified lines with a stack of list levels keyed by
   indentation and marker style, joins wrapped lines, and gives every item its section, its
   path (`inclusion/3/b`), its offsets into the original text and its parent's text.

Nothing is dropped: headers and free paragraphs come out as items of their own kind. The text
of an item is its lines joined with single spaces (markdown backslash escapes removed), so it
equals `text[span.start:span.end]` only for items written on one line without escapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Literal, NamedTuple

from critparse.lexicon.resources import default_resources
from critparse.lexicon.sections import HeaderSection, SectionsFile, SectionVocabulary, load_sections
from critparse.model import Section, unchecked
from critparse.model.segment import ItemKind, Segment

LineKind = Literal["blank", "header", "bullet", "text"]


# --- step 1: one line at a time --------------------------------------------------------------


class LineInfo(NamedTuple):
    """One classified line (or part of a line: a header may be followed by text after its colon).

    Offsets are absolute in the text being split; `indent` counts columns (a tab is 4).
    """

    kind: LineKind
    start: int
    end: int
    indent: int = 0
    content_start: int = 0
    section: HeaderSection | None = None
    family: str | None = None  # num, decimal, alpha, ALPHA, roman, ROMAN, symbol
    token: str | None = None  # the marker as written without punctuation ("3", "b", "*")
    style: str | None = None  # family plus punctuation: "num.", "(alpha)", "symbol*"
    # (family, token, style, content offset) of a marker only its neighbours can confirm: `2.1`
    # before a lower-case word, `3 - ` (a wrapped "at least\n1.5 mg/dL" is not an item).
    maybe: tuple[str, str, str, int] | None = None
    column: int | None = None  # where `start` is on its line when not at `indent` (after a heading)


_LEAD_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000\ufeff]*")
_RULE_LINE = re.compile(r"[\s=\-_*~#.]{3,}")
# Markdown tables: the `|---|:--:|` line under the header row, and a row `| cell | cell |`.
_TABLE_RULE = re.compile(r"\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?\s*)?")
_TABLE_ROW = re.compile(r"\|(?=.*[^\\\s]\s*\|)")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_ROMAN = re.compile(r"(?=[ivxlc])m{0,3}(?:c[md]|d?c{0,3})(?:x[cl]|l?x{0,3})(?:i[xv]|v?i{0,3})")
# Enumerators: `1.`, `1)`, `(1)`, `1.2.`, `a.`, `(b)`, `iv)`, `A.`, `II.` followed by a space.
_ENUM = re.compile(
    r"(?P<open>\(|\[)?"
    r"(?P<tok>\d{1,3}(?:\.\d{1,3})+|\d{1,3}|[ivxlc]{2,6}|[IVXLC]{2,6}|[A-Za-z])"
    r"(?P<close>(?(open)[)\]]|[.)\]]))"
    r"(?P<gap>[ \t\u00a0]+|$)"
)
_DECIMAL = re.compile(r"(\d{1,3}(?:\.\d{1,3})+)\.?[ \t]+(?=[A-Z(])")
_DECIMAL_ANY = re.compile(r"(\d{1,3}(?:\.\d{1,3})+)\.?[ \t]+(?=\S)")
_NUM_DASH = re.compile(r"(\d{1,2})[ \t]+[-–][ \t]+(?=[^\d\s])")
# A number glued to its text, as many sponsors write lists: `1.Age`, `2、ECOG`, `(3)Prior`.
_GLUED = re.compile(r"(?:(\d{1,2})([.)．）、])|[(（](\d{1,2})[)）])[ \t]*(?=[^\d\s.,;:])")
_GLUED_STYLE = {".": "num.", "．": "num.", ")": "num)", "）": "num)", "、": "num、"}
_MD_DECOR = re.compile(r"^(?:#{1,6}\s*)|[*_]{2,3}|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)|\\")
# The number before a heading: `1.`, `b)`, `IV.`, and the codes of protocol and registry
# sections, `4.1`, `E.3` (EudraCT), `5.2.1.`.
_LEAD_ENUM = re.compile(
    r"^(?:\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]\s+|(?:[A-Z]\.)?\d{1,3}(?:\.\d{1,3})*\.?\s+)"
)
_WS = re.compile(r"\s+")
_CLOSE_EMPHASIS = re.compile(r"\*{1,3}|_{1,3}")
_FRAMED = re.compile(r"(?:[-=~]{2,}|\[)\s*(.{3,80}?)\s*:?\s*(?:[-=~]{2,}|\])")


def _lead_width(text: str, pos: int = 0) -> int:
    """Length of the run of leading white space at `pos` (possibly empty)."""
    m = _LEAD_WS.match(text, pos)
    return m.end() - pos if m else 0


def _indent_width(lead: str) -> int:
    return len(lead.replace("\t", "    "))


def _header_candidate(text: str) -> str:
    """Normalise a possible heading: markdown decoration, enumerator and colon removed."""
    text = _MD_DECOR.sub("", text).strip()
    text = _LEAD_ENUM.sub("", text)
    text = text.rstrip(" \t:-–—.").strip()
    return _WS.sub(" ", text).lower()


def match_header(text: str, vocab: SectionVocabulary | None = None) -> HeaderSection | None:
    """The section a heading names, or None when `text` is not a heading.

    `text` is one line without its bullet marker. Long lines are never headings.
    """
    if len(text) > 200:
        return None
    vocab = vocab or _default_sections()
    low = text.lower()
    if not any(word in low for word in vocab.header_words):
        return None
    kept = _HEADINGS.get(text)
    if kept is not None and kept[0] is vocab.headers:
        return kept[1]
    found = _heading_section(text, vocab)
    if len(_HEADINGS) >= _HEADINGS_KEPT:
        _HEADINGS.clear()
    _HEADINGS[text] = (vocab.headers, found)
    return found


_HEADINGS: dict[str, tuple[object, HeaderSection | None]] = {}
"""`_heading_section` of the lines asked about lately, with the patterns it was found by: every
trial of a registry repeats the same few headings ('Inclusion Criteria:'), and trying the 21
heading patterns on one costs about 60,000 instructions."""
_HEADINGS_KEPT = 4096


def _heading_section(text: str, vocab: SectionVocabulary) -> HeaderSection | None:
    """`match_header` past its cheap tests."""
    stripped = _MD_DECOR.sub("", text).strip()
    framed = _FRAMED.fullmatch(stripped)
    if framed:  # "--Disease Characteristics--": the frame marks a heading as a colon does
        text = stripped = framed.group(1) + ":"
    if not stripped or len(stripped) > 160:
        return None
    has_colon = stripped.endswith(":")
    candidate = _header_candidate(text)
    if not candidate or ":" in candidate:
        return None  # "Inclusion criteria: Age >= 18" is a heading plus text, see below
    for regex, section, needs_colon in vocab.headers:
        if needs_colon and not has_colon:
            continue
        if regex.fullmatch(candidate):
            return section
    return None


def _split_header_prefix(line: str, offset: int, vocab: SectionVocabulary) -> int | None:
    """Offset just after the colon (and the emphasis that closes there) when a line opens with
    a heading followed by text.

    "Inclusion Criteria: Age >= 18" and "**Inclusion Criteria:** Age >= 18" are a heading and a
    criterion on one line.
    """
    colon = line.find(":")
    if colon <= 0 or colon > 100 or not line[colon + 1 :].strip():
        return None
    if match_header(line[: colon + 1], vocab) in (None, "keep"):
        return None
    closing = _CLOSE_EMPHASIS.match(line, colon + 1)
    end = closing.end() if closing else colon + 1
    return offset + end if line[end:].strip() else None


def _marker(body: str, vocab: SectionVocabulary) -> tuple[str, str, str, int] | None:
    """(family, token, style, length including the following spaces) of a leading marker."""
    if not body:
        return None
    first = body[0]
    if first in vocab.unicode_bullets:
        gap = _lead_width(body, 1)
        return ("symbol", first, f"symbol{first}", 1 + gap) if len(body) > 1 + gap else None
    if first in vocab.ascii_bullets:
        if len(body) > 2 and body[1] in " \t\u00a0" and body[2:].strip():
            gap = _lead_width(body, 1)
            return ("symbol", first, f"symbol{first}", 1 + gap)
        if first == "-" and len(body) > 2 and body[1].isupper() and body[2].islower():
            return ("symbol", first, "symbol-", 1)  # "-Age 18 to 65": a dash glued to its text
        return None
    if not (first.isalnum() or first in "(["):
        return None
    dec = _DECIMAL.match(body)
    if dec:
        return ("decimal", dec.group(1), f"decimal{dec.group(1).count('.')}", dec.end())
    m = _ENUM.match(body)
    if m is None or m.end() >= len(body):
        return None
    tok = m.group("tok")
    open_, close = m.group("open") or "", m.group("close")
    if tok.isdigit():
        family = "num"
    elif len(tok) > 1:
        if not _ROMAN.fullmatch(tok.lower()):
            return None
        family = "roman" if tok.islower() else "ROMAN"
    else:
        family = "alpha" if tok.islower() else "ALPHA"
        # A capital letter and a period often start a name ("J. Smith"); accept only before
        # an upper-case word or with a closing parenthesis.
        if family == "ALPHA" and close == "." and not body[m.end() : m.end() + 1].isupper():
            return None
    return family, tok, f"{open_}{family}{close}", m.end()


def classify_line(
    line: str, offset: int = 0, vocab: SectionVocabulary | None = None
) -> list[LineInfo]:
    """Classify one line (without its line break) starting at `offset` in the whole text.

    Usually one `LineInfo`; two when a heading is followed by text on the same line.
    """
    vocab = vocab or _default_sections()
    end = offset + len(line.rstrip())
    lead = line[: _lead_width(line)]
    body = line[len(lead) :].rstrip()
    start = offset + len(lead)
    indent = _indent_width(lead)
    if not body or _RULE_LINE.fullmatch(body):
        return [LineInfo("blank", start, max(start, end), indent, start)]
    if _TABLE_RULE.fullmatch(body):  # not a criterion: it says the row above is the header
        return [LineInfo("blank", start, end, indent, start, family="table")]
    if _TABLE_ROW.match(body):
        return [LineInfo("bullet", start, end, indent, start, None, "table", "|", "table")]
    mark = _marker(body, vocab)
    content_rel = mark[3] if mark else 0
    content = body[content_rel:]
    section = match_header(content, vocab)
    if section is not None:
        return [LineInfo("header", start, end, indent, start + content_rel, section)]
    split_at = _split_header_prefix(content, start + content_rel, vocab)
    if split_at is not None:
        header = LineInfo(
            "header", start, split_at, indent, start + content_rel,
            match_header(line[content_rel + len(lead) : split_at - offset].rstrip("*_"), vocab),
        )
        rest = line[split_at - offset :]
        rest_lead = _lead_width(rest)
        pieces = classify_line(rest[rest_lead:], split_at + rest_lead, vocab)
        # The text after the colon belongs under the heading, not beside it.
        column = indent + split_at + rest_lead - start
        return [header, *(p._replace(indent=indent, column=column) for p in pieces)]
    if mark is not None:
        family, token, style, _ = mark
        return [LineInfo("bullet", start, end, indent, start + content_rel, None, family, token, style)]
    return [LineInfo("text", start, end, indent, start, maybe=_weak_marker(body))]


def _weak_marker(body: str) -> tuple[str, str, str, int] | None:
    """A marker that may as well be the start of a wrapped line: `2.1 haemoglobin`, `1 - Age`,
    `1.Age` (confirmed by the lines around it, see `_Walk._confirm`)."""
    dec = _DECIMAL_ANY.match(body)
    if dec:
        return ("decimal", dec.group(1), f"decimal{dec.group(1).count('.')}", dec.end())
    dash = _NUM_DASH.match(body)
    if dash:
        return ("num", dash.group(1), "num-", dash.end())
    glued = _GLUED.match(body)
    if glued:
        if glued.group(3):
            return ("num", glued.group(3), "(num)", glued.end())
        return ("num", glued.group(1), _GLUED_STYLE[glued.group(2)], glued.end())
    return None


_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE = re.compile(rf"[^{_BREAKS}]*(?:\r\n|[{_BREAKS}]|$)")
"""One line with its break, as `str.splitlines(keepends=True)` cuts them."""


def _physical_lines(text: str) -> Iterator[tuple[str, int]]:
    """Each line of `text` without its break, with its offset."""
    for m in _LINE.finditer(text):
        raw = m.group()
        if not raw:
            break
        yield raw.rstrip(_BREAKS), m.start()


def _bare_row(line: str, offset: int) -> LineInfo | None:
    """A table row written without its outer pipes (`Haemoglobin | >= 10 g/dL`, as GitHub
    markdown allows) as the row `classify_line` makes of `| cell | cell |`; None when the line
    holds no cell boundary."""
    if "|" not in line:
        return None
    lead = _lead_width(line)
    body = line[lead:].rstrip()
    if body.startswith("|") or _CELL_SPLIT.search(body) is None or _TABLE_RULE.fullmatch(body):
        return None
    start = offset + lead
    return LineInfo("bullet", start, start + len(body), _indent_width(line[:lead]), start, None,
                    "table", "|", "table")


def iter_lines(text: str, vocab: SectionVocabulary | None = None) -> Iterator[LineInfo]:
    """Classify every line of `text`, with absolute offsets (one line at a time, looking one
    line ahead: a 200,000-line block is never held as a list of lines).

    A table without outer pipes is known by its `--- | ---` rule: the line above it and the
    lines with cells below it are its rows.
    """
    vocab = vocab or _default_sections()
    lines = _physical_lines(text)
    here = next(lines, None)
    in_table = False  # inside a table written without outer pipes
    while here is not None:
        ahead = next(lines, None)
        line, offset = here
        row = _bare_row(line, offset)
        if row is not None and not in_table:
            in_table = ahead is not None and _TABLE_RULE.fullmatch(ahead[0].strip()) is not None
        if row is not None and in_table:
            yield row
        else:
            in_table = in_table and _TABLE_RULE.fullmatch(line.strip()) is not None
            yield from classify_line(line, offset, vocab)
        here = ahead


def table_cells(row: str) -> str:
    """A markdown table row as text: its cells, unescaped pipes removed, joined by spaces."""
    cells = (c.strip() for c in _CELL_SPLIT.split(row))
    return " ".join(c for c in cells if c)


# --- step 2: the stack -----------------------------------------------------------------------


_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~=])")
_CONTINUE_AFTER = re.compile(
    r"(?:[,(/&+\-–]|\b(?:and|or|of|the|a|an|with|without|to|than|in|for|by|on|at|as|from|"
    r"who|which|that|is|are|be|has|have|not|per|including|e\.g\.|i\.e\.))$",
    re.IGNORECASE,
)
_TERMINAL = (".", ";", ":", "!", "?")
# A line ending so still wants its number: the next line, even "1.5 mg/dL", continues it
# ("18 years and over" has its number).
_NUMBER_AFTER = re.compile(
    r"(?:[<>=≤≥×]|\b(?:least|most|than|(?<!and )(?<!or )(?:below|above|under|over)|exceeding|"
    r"exceeds?|within|between|measuring|of|to|from|by|x|approximately|about|maximum|minimum))$",
    re.IGNORECASE,
)
_WRAP_WIDTH = 60  # a line at least this long without final punctuation was probably wrapped
_GROUP_LABEL_WORDS = 4  # the PDQ group headings are this short ("Prior/Concurrent Therapy:")


def _label(depth: int, n: int) -> str:
    """Ordinal labels by depth: 1, 2 ... then a, b ... then i, ii ... then numbers again."""
    if depth % 3 == 2:
        label = ""
        while n > 0:
            n, rem = divmod(n - 1, 26)
            label = chr(ord("a") + rem) + label
        return label
    if depth % 3 == 0 and depth > 0:
        return _to_roman(n)
    return str(n)


def _to_roman(n: int) -> str:
    out = []
    for value, digits in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"),
                          (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                          (4, "iv"), (1, "i")):
        while n >= value:
            out.append(digits)
            n -= value
    return "".join(out)


def _alpha_next(token: str | None) -> str | None:
    if token and len(token) == 1 and token.isalpha() and token.lower() != "z":
        return chr(ord(token) + 1)
    return None


class _Item:
    """An item being built: its lines accumulate until the next item starts."""

    __slots__ = (
        "blank_after",
        "children",
        "depth",
        "end",
        "indent",
        "kind",
        "last_line",
        "last_width",
        "level",
        "marker",
        "parent",
        "parts",
        "path",
        "section",
        "start",
        "style",
    )

    def __init__(self, kind: ItemKind, section: Section, path: str, depth: int, line: LineInfo,
                 text: str, parent: _Item | None) -> None:
        self.kind = kind
        self.section = section
        self.path = path
        self.depth = depth
        self.start = line.content_start
        self.end = line.end
        self.parts = [text]
        self.parent = parent
        self.marker = line.token if line.kind == "bullet" else None
        self.style = line.style if line.kind == "bullet" else None
        self.level: _Level | None = None
        self.indent = line.indent
        self.last_line = text
        self.last_width = 0  # columns of its last line (set by the walk, which has the text)
        self.blank_after = False
        self.children = 0  # items nested under this one so far: a reopened level goes on counting

    @property
    def text(self) -> str:
        return " ".join(self.parts)

    def opens(self) -> bool:
        return self.last_line.endswith(":")


class _Level:
    __slots__ = ("count", "depth", "family", "indent", "last", "parent", "path", "style", "token")

    def __init__(self, indent: int, style: str | None, parent: _Item | None, path: str,
                 depth: int, count: int = 0) -> None:
        self.indent = indent
        self.style = style
        self.family: str | None = None
        self.token: str | None = None
        self.count = count
        self.last: _Item | None = None
        self.parent = parent
        self.path = path
        self.depth = depth


def _undecorated(text: str) -> str:
    """`text` without markdown emphasis and heading marks ("**Cardiac:**" -> "Cardiac:")."""
    return _MD_DECOR.sub("", text).strip()


def _is_label(text: str) -> bool:
    """A short line ending in a colon ("Age:", "Hematopoietic:", "**Renal:**") heads the lines
    below it; so does a line holding only a connective ("OR" between two bullets)."""
    text = _undecorated(text)
    if _CONNECTIVE.fullmatch(text):
        return True
    return text.endswith(":") and len(text.split()) <= 6 and not re.search(r"[<>=≤≥]", text)


# A title: a capital, at most four words (a short number among them: "Part 2"), maybe an
# aside in parentheses ("Part A (expansion)").
_SUBLABEL = re.compile(
    r"[A-Z][A-Za-z'’/&\-]*(?: (?:[A-Za-z'’/&\-]+|\d{1,2}[A-Za-z]?)){0,3}(?: \([^()]{1,30}\))?"
)
_CONNECTIVE = re.compile(r"\(?(?:and|or|and/or)\)?", re.IGNORECASE)
_EMPHASIS = re.compile(r"(\*\*|__).+\1|#{1,6}\s.+")


def _is_sublabel(item: _Item) -> bool:
    """A short title alone on its line, right above bullets: the sub-headings of the older
    registry layout ("Hepatic", "Performance status") that name what their bullets are about,
    and a markdown line set in bold or as a heading ("**Part A (dose escalation)**")."""
    if item.kind != "paragraph" or len(item.parts) != 1 or len(item.parts[0]) > 60:
        return False
    line = item.parts[0]
    label = _undecorated(line)
    if _EMPHASIS.fullmatch(line) and not re.search(r"[<>=≤≥]", label):
        return True
    return len(label) <= 40 and _SUBLABEL.fullmatch(label) is not None


def _group_row(row: str) -> bool:
    """A table row with one cell filled and the others empty ("| **Renal** | |") names the rows
    below it: a sub-heading of the table, not a criterion."""
    cells = [c.strip() for c in _CELL_SPLIT.split(row.strip().strip("|"))]
    filled = [c for c in cells if c]
    return len(cells) >= 2 and len(filled) == 1 and len(filled[0]) <= 60


def _width(line: LineInfo) -> int:
    """Columns the physical line of `line` takes up to its last character (a heading's text
    after its colon counts from the start of the line)."""
    return (line.indent if line.column is None else line.column) + line.end - line.start


def _continues(item: _Item, line: LineInfo, body: str, widest: int, note: re.Pattern[str]) -> bool:
    """Whether an unmarked line is the wrapped continuation of the open item (`widest`: the
    longest line so far, in columns; `note`: what opens a note, which adds a remark of its own
    to the item above and never wraps it)."""
    if item.kind == "header" or item.marker == "|" or note.match(body):
        return False
    if item.marker is not None and line.indent > item.indent:
        return True  # indented under its bullet, even after a blank line (markdown lazy lines)
    if item.blank_after:
        return False
    prev = item.last_line
    if prev.endswith(":") and item.kind != "criterion":
        return False
    first = body[0]
    if first.islower() or first in "([{<>=≤≥/,;&%+-–":
        return True
    if first.isdigit() and _NUMBER_AFTER.search(prev):
        return True  # "at least\n9 g/dL", "measuring\n2 cm or more"
    if first.isupper() and prev.endswith(_TERMINAL):
        return False
    if _CONTINUE_AFTER.search(prev):
        return True
    if len(prev) < _WRAP_WIDTH or prev.endswith(_TERMINAL):
        return False
    # A line is wrapped where its next word did not fit: when a capitalised word would have
    # fitted within the longest line so far, it starts a sentence of its own.
    return not (first.isupper() and item.last_width + 1 + len(body.split()[0]) <= widest)


def split_eligibility(text: str, vocab: SectionVocabulary | None = None) -> list[Segment]:
    """Every item of an eligibility block, in order, with section, path, span and parent."""
    return list(iter_segments(text, vocab))


def _default_sections() -> SectionVocabulary:
    return default_resources().sections


def iter_segments(text: str, vocab: SectionVocabulary | None = None) -> Iterator[Segment]:
    """Streaming form of `split_eligibility`: each item as soon as it is complete (the items
    before the first section heading wait for it, at most `_HELD` of them)."""
    vocab = vocab if vocab is not None else _default_sections()
    walk = _Walk(text, vocab.note)
    unplaced = _Unplaced(walk)
    for line in iter_lines(text, vocab):
        yield from unplaced.release(walk.step(line))
    yield from unplaced.release(walk.close())
    yield from unplaced.flush()


_HELD = 2000
_HEADER_GIVEN = frozenset(["kind", "section", "path", "span", "text", "depth"])


class _Unplaced:
    """The items before the first section heading, held until it comes: when the block has an
    exclusion heading and no inclusion heading, the list above it is the inclusion list (the
    registry layout says so), so its items move to `inclusion`."""

    def __init__(self, walk: _Walk) -> None:
        self.walk = walk
        self.held: list[Segment] | None = []  # None once released

    def release(self, segments: Iterable[Segment]) -> Iterator[Segment]:
        for segment in segments:
            if self.held is None:
                yield segment
            elif segment.depth == 0 and segment.section in ("inclusion", "exclusion"):
                yield from self.flush(to_inclusion=segment.section == "exclusion")
                yield segment
            else:
                self.held.append(segment)
                if len(self.held) > _HELD:
                    yield from self.flush()

    def flush(self, to_inclusion: bool = False) -> Iterator[Segment]:
        held, self.held = self.held or [], None
        if to_inclusion and any(s.depth > 0 for s in held):
            self.walk.counts["inclusion"] = self.walk.counts.get("unknown", 0)
            held = [_moved(s) if s.depth > 0 else s for s in held]
        yield from held


def _moved(segment: Segment) -> Segment:
    """`segment` placed in the inclusion section (its path and its parent's path too)."""
    def path(p: str | None) -> str | None:
        if p is None or not p.startswith("unknown/"):
            return p
        return "inclusion" + p.removeprefix("unknown")

    return segment.model_copy(update={"section": "inclusion", "path": path(segment.path),
                                      "parent_path": path(segment.parent_path)})


def _segment(item: _Item) -> Segment:
    parent = item.parent
    return unchecked.segment(
        item.kind, item.section, item.path, unchecked.span(item.start, item.end), _UNESCAPE.sub(r"\1", item.text),
        _UNESCAPE.sub(r"\1", parent.text) if parent is not None else None, parent.path if parent is not None else None,
        item.depth, item.marker,
    )


class _Walk:
    """The state of the walk over classified lines: the section, the list levels, the open item.

    `step` takes one line and hands out the items it completes; `close` the last one.
    """

    def __init__(self, text: str, note: re.Pattern[str]) -> None:
        self.text = text
        self.note = note
        self.section: Section = "unknown"
        self.counts: dict[str, int] = {}  # top-level items per section: a repeated heading continues
        self.header_seen: dict[str, int] = {}
        self.stack: list[_Level] = [_Level(-1, None, None, "unknown", 1)]
        self.current: _Item | None = None
        self.rows = 0  # table rows in a row so far: the first one is the header row
        self.widest = 0  # the longest line so far, in columns: where the text is wrapped

    def close(self) -> Iterator[Segment]:
        if self.current is not None:
            yield from self._emit(self.current)
        self.current = None

    def _emit(self, item: _Item) -> Iterator[Segment]:
        """The segment of a finished item, or one per part when it is a run-on list."""
        parts = _run_on_parts(self.text, item)
        if not parts or item.level is None:
            yield _segment(item)
            return
        level = item.level
        for k, (start, end, marker) in enumerate(parts):
            if k:
                level.count += 1
                if level.depth == 1:
                    self.counts[self.section] = level.count
                if level.parent is not None:
                    level.parent.children = level.count
            path = item.path if k == 0 else f"{level.path}/{_label(level.depth, level.count)}"
            lines = self.text[start:end].splitlines()
            part = _Item("criterion", item.section, path, item.depth, LineInfo("text", start, end, 0, start),
                         " ".join(x.strip() for x in lines), item.parent)
            part.marker = marker
            yield _segment(part)

    def step(self, line: LineInfo) -> Iterator[Segment]:
        current = self.current
        if line.kind == "blank":
            if current is not None:
                current.blank_after = True
                if line.family == "table" and current.marker == "|" and self.rows == 1:
                    current.kind = "header"  # the row above `|---|` names the columns
            return
        if line.maybe is not None:
            line = self._confirm(line)
        body = self.text[line.content_start : line.end].strip()
        if line.family == "table":
            body = table_cells(body)
        if line.kind == "header" and line.section == "inclusion" and self.section == "exclusion" \
                and "inclu" not in body.lower() and len(body.split()) <= _GROUP_LABEL_WORDS:
            # "Prior therapy:" inside exclusions heads a group; a sentence ("Subjects must meet
            # all of the following to be enrolled:") opens the inclusion list that follows them.
            line = line._replace(section="keep")
        if line.kind == "header" and line.section != "keep":
            yield from self.close()
            yield self._section_header(line, body)
            return
        width = _width(line)
        self.widest = max(self.widest, width)
        if line.kind == "text" and current is not None and _continues(current, line, body, self.widest, self.note):
            current.parts.append(body)
            current.last_line = body
            current.last_width = width
            current.end = line.end
            return
        if line.kind == "bullet" and current is not None and _is_sublabel(current) and self._alone(current):
            current.kind = "header"  # "Hepatic" alone above its bullets heads them
        yield from self.close()
        kind: ItemKind
        if line.kind == "bullet":
            level, kind = _place_bullet(self.stack, line), "criterion"
        else:
            level, kind = self._text_level(line, body)
        if line.family == "table" and _group_row(self.text[line.content_start : line.end]):
            kind = "header"
        self.rows = self.rows + 1 if line.family == "table" else 0
        self.current = self._add(level, kind, line, body)

    def _alone(self, item: _Item) -> bool:
        """Whether an item starts its line (not the text after an inline heading)."""
        low = max(0, item.start - 400)
        brk = max(self.text.rfind(c, low, item.start) for c in "\n\r\u2028")
        return not self.text[max(brk + 1, low) : item.start].strip()

    def _confirm(self, line: LineInfo) -> LineInfo:
        """A weak marker becomes a bullet when it continues a list (`2.2` after `2.1`, `3 - `
        after `2 - `) or opens one where a line does not wrap (`2.1` after `2.`, `1 - `)."""
        family, token, style, offset = line.maybe or ("", "", "", 0)
        current = self.current
        head, _, last = token.rpartition(".")
        if last != "1":
            before = f"{head}.{int(last) - 1}" if head else str(int(last) - 1)
            listed = any(lv.family == family and lv.token == before for lv in self.stack)
        elif current is not None and not current.blank_after and _NUMBER_AFTER.search(current.last_line):
            listed = False  # "at least\n1.5 mg/dL" is one line wrapped
        elif head:
            listed = any(level.token == head for level in self.stack)
        else:
            listed = (current is None or current.blank_after or current.kind == "header"
                      or current.last_line.endswith(_TERMINAL))
        if not listed:
            return line
        return line._replace(kind="bullet", content_start=line.start + offset, family=family,
                             token=token, style=style, maybe=None)

    def _section_header(self, line: LineInfo, body: str) -> Segment:
        """A heading that opens a section: its own item, and a fresh stack of levels."""
        section: Section = line.section or "unknown"  # type: ignore[assignment]
        self.section = section
        n = self.header_seen[section] = self.header_seen.get(section, 0) + 1
        self.stack = [_Level(-1, None, None, section, 1, self.counts.get(section, 0))]
        return unchecked.segment(
            "header", section, section if n == 1 else f"{section}#{n}", unchecked.span(line.content_start, line.end),
            _UNESCAPE.sub(r"\1", body), None, None, 0, None, _HEADER_GIVEN,
        )

    def _text_level(self, line: LineInfo, body: str) -> tuple[_Level, ItemKind]:
        """The level of unmarked text (or a "keep" sub-heading): deeper or equal levels close."""
        stack, indent = self.stack, line.indent
        while len(stack) > 1 and stack[-1].indent >= indent:
            stack.pop()
        level = stack[-1]
        if level.last is None and level.indent < 0:
            level.indent = indent
        if level.indent > indent and len(stack) == 1:
            level.indent = indent
        if level.style is None:
            level.style = "text"
        kind: ItemKind = "header" if (line.kind == "header" or _is_label(body)) else "paragraph"
        # Unmarked text indented under a bullet's text, or under a heading-like item, becomes
        # its child (a note below a bullet's sub-bullets, at the bullet's text column).
        last = level.last
        if last is not None and indent > last.indent and (
            last.marker is not None or (last.opens() and last.kind != "criterion")
        ):
            level = _Level(indent, "text", last, last.path, level.depth + 1, last.children)
            stack.append(level)
        return level, kind

    def _add(self, level: _Level, kind: ItemKind, line: LineInfo, body: str) -> _Item:
        level.count += 1
        if level.depth == 1:
            self.counts[self.section] = level.count
        if level.parent is not None:
            level.parent.children = level.count
        path = f"{level.path}/{_label(level.depth, level.count)}"
        item = _Item(kind, self.section, path, level.depth, line, body, level.parent)
        item.level = level
        item.last_width = _width(line)
        level.last = item
        return item


_INLINE_NUMBER = re.compile(r"(?<=\s)(\d{1,3})([.)])[ \t]+(?=[A-Z(\"'“])")
_LIST_SPLIT = re.compile(r"[;()\[\]]")
_LEAD_AND = re.compile(r"(?:and|or)\s+", re.IGNORECASE)
_PART_ENUM = re.compile(r"\(?(\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s+(?=\S)")  # "a) x; b) y; c) z"


def _run_on_parts(text: str, item: _Item) -> list[tuple[int, int, str | None]]:
    """A list written on one run of text, as (start, end, marker) of each part; [] when the
    item is one item. Numbering run on (`1. Aged 18 2. Diagnosed ... 3. Able ...`, at least two
    numbers after the first, in order) or, in a paragraph without markers, parts separated by
    semicolons outside brackets (at least three parts; a leading `and` or `or` dropped)."""
    if item.kind == "criterion" and item.marker and item.marker.isdigit() and item.style in ("num.", "num)"):
        return _numbered_parts(text, item.start, item.end, int(item.marker), item.style[-1])
    if item.kind == "paragraph":
        return _semicolon_parts(text, item.start, item.end)
    return []


def _numbered_parts(text: str, start: int, end: int, first: int, close: str) -> list[tuple[int, int, str | None]]:
    cuts: list[tuple[int, int]] = []
    for m in _INLINE_NUMBER.finditer(text, start, end):
        if int(m.group(1)) == first + 1 + len(cuts) and m.group(2) == close:
            cuts.append((m.start(), m.end()))
    if len(cuts) < 2:
        return []
    bounds = [start, *(c for cut in cuts for c in cut), end]
    numbers = [str(first + k) for k in range(len(cuts) + 1)]
    return [(*_trimmed(text, bounds[2 * k], bounds[2 * k + 1]), numbers[k]) for k in range(len(numbers))]


def _semicolon_parts(text: str, start: int, end: int) -> list[tuple[int, int, str | None]]:
    cuts: list[int] = []
    depth = 0
    for m in _LIST_SPLIT.finditer(text, start, end):
        char = m.group()
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        elif depth == 0:
            cuts.append(m.start())
    bounds = [start, *(c for cut in cuts for c in (cut, cut + 1)), end]
    parts: list[tuple[int, int, str | None]] = []
    for k in range(0, len(bounds), 2):
        a, b = _trimmed(text, bounds[k], bounds[k + 1])
        lead = _LEAD_AND.match(text, a, b) if parts else None
        a = lead.end() if lead else a
        enum = _PART_ENUM.match(text, a, b)
        if enum:
            a = enum.end()
        if a < b:
            parts.append((a, b, enum.group(1) if enum else None))
    return parts if len(parts) >= 3 else []


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` without the white space at its ends."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _place_bullet(stack: list[_Level], line: LineInfo) -> _Level:
    """Find (or open) the list level a bullet belongs to, popping levels it closes."""
    indent, style, family, token = line.indent, line.style or "", line.family, line.token
    # A lone "i", "v" or "x" is a roman numeral unless it continues a lettered list ("h", "i").
    if family in ("alpha", "ALPHA") and token and token.lower() in ("i", "v", "x"):
        roman = "roman" if family == "alpha" else "ROMAN"
        same_alpha = next((lv for lv in reversed(stack) if lv.indent == indent
                           and lv.family == family), None)
        same_roman = next((lv for lv in reversed(stack) if lv.indent == indent
                           and lv.family == roman), None)
        continues_letters = same_alpha is not None and _alpha_next(same_alpha.token) == token
        if not continues_letters and (same_roman is not None or token.lower() == "i"):
            style = style.replace(family, roman)
            family = roman

    # Close levels indented deeper than this bullet; an in-between indent joins the closer one.
    while len(stack) > 1 and stack[-1].indent > indent:
        if stack[-2].indent < indent:
            stack[-1].indent = indent
            break
        stack.pop()

    # A level at this indent with this style, anywhere up the stack: we are its sibling.
    for i in range(len(stack) - 1, -1, -1):
        level = stack[i]
        if level.indent < indent and level.indent >= 0:
            break
        if level.indent == indent and level.style == style:
            del stack[i + 1 :]
            level.family, level.token = family, token
            return level

    top = stack[-1]
    if top.last is None:
        # The first item of a section (or of a fresh level) sets its indent and style.
        top.indent, top.style, top.family, top.token = indent, style, family, token
        return top
    nests = (
        top.indent < indent
        or top.last.opens()
        or (top.style == "text" and top.last.kind == "header")
        or (family in ("alpha", "roman", "ALPHA", "ROMAN") and top.family in ("num", "decimal")
            and top.indent == indent)
        or (family == "roman" and top.family == "alpha" and top.indent == indent)
    )
    if top.style == "text" and not top.last.opens() and top.last.kind != "header":
        nests = top.indent < indent
    if nests:
        child = _Level(indent, style, top.last, top.last.path, top.depth + 1, top.last.children)
        child.family, child.token = family, token
        stack.append(child)
        return child
    top.style, top.family, top.token = style, family, token
    return top


__all__ = [
    "LineInfo",
    "SectionsFile",
    "Segment",
    "classify_line",
    "iter_lines",
    "iter_segments",
    "load_sections",
    "match_header",
    "split_eligibility",
    "table_cells",
]
