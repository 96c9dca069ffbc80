"""The threshold and logic passes read each part of a bullet a bounded number of times, and every
shortcut that makes them do so finds what the plain reading finds: the brackets around a mention
(read once per text, not once per expression), the last bracket left open (read from the end),
comparator phrases for the logic (read as far as asked), the cue scans on lower-cased text, a
bare limit's lead and the value sets of a long list of scales."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.extract.analytes import (
    Asides,
    Brackets,
    _last_unclosed_paren,
    analyte_patterns,
    prepare_mentions,
)
from critparse.extract.atoms import ComparatorEnds, value_set_atoms
from critparse.extract.logic_cues import logic_cues
from critparse.extract.mentions import Mention
from critparse.extract.quantities import (
    ComparatorsBefore,
    find_bare_limits,
    find_quantities,
    patterns,
)
from critparse.lexicon.resources import default_resources
from critparse.model.logic import ValueSetLeaf

VOCAB = default_resources().vocabulary


def _plain_last_unclosed(segment: str) -> int:
    """The left-to-right reading: a stack of openers, a closer with nothing open ignored."""
    stack: list[int] = []
    for i, ch in enumerate(segment):
        if ch in "([":
            stack.append(i)
        elif ch in ")]" and stack:
            stack.pop()
    return stack[-1] if stack else -1


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="()[]a ", max_size=24))
def test_bounded_last_unclosed_paren_is_the_stack_reading(segment: str) -> None:
    assert _last_unclosed_paren(segment) == _plain_last_unclosed(segment)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="()[]a ", max_size=30))
def test_bounded_brackets_read_once_answer_every_segment(text: str) -> None:
    for order in (range(len(text) + 1), reversed(range(len(text) + 1))):  # read as far as asked, or all
        brackets = Brackets(text)  # one object for every stretch
        for hi in order:
            for lo in range(hi + 1):
                plain = _last_unclosed_paren(text[lo:hi])
                assert brackets.last_unclosed(lo, hi) == (lo + plain if plain >= 0 else -1), (text, lo, hi)


def _plain_in_aside(text: str, mention: Mention, hi: int) -> bool:
    """A mention inside a closed parenthetical that says more than its name, closing before `hi`."""
    open_at = text.rfind("(", 0, mention.start)
    close_at = text.find(")", mention.end, hi)
    if open_at < 0 or close_at < 0 or text.find(")", open_at, mention.start) >= 0:
        return False
    return text[open_at + 1 : close_at].strip() != mention.text.strip()


_PIECES = ["(", ")", " ", "Hb", "Hb ", "ANC", " 1500", "corrected for", "x", "(Hb)", " (ANC) "]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=16).map("".join))
def test_bounded_asides_read_once_say_what_the_plain_reading_says(text: str) -> None:
    mentions = [Mention(m.start(), m.end(), m.group(0), m.group(0).lower()) for m in re.finditer(r"Hb|ANC", text)]
    asides = Asides(text)
    for hi in range(len(text) + 1):  # every expression start, the same object throughout
        for m in mentions:
            assert asides(m, hi) == _plain_in_aside(text, m, hi), (text, m, hi)


def test_bounded_asides_read_each_mention_once() -> None:
    text = "(ANC 1500) " * 200
    mentions = [Mention(m.start(), m.end(), "ANC", "anc") for m in re.finditer("ANC", text)]
    asides = Asides(text)
    for hi in range(0, len(text), 11):
        for m in mentions:
            asides(m, hi)
    assert len(asides._read) == len(mentions)


_COMPARATOR_TEXTS = ["ANC ≥ 1500 and < 3 x ULN", "<=" * 50 + " 2", "age > 18 years, less than 65", "no comparator", ""]


@pytest.mark.parametrize("text", _COMPARATOR_TEXTS)
def test_bounded_comparator_ends_are_comparators_ending(text: str) -> None:
    lazy = ComparatorEnds(VOCAB.iter_comparators(text))
    full = VOCAB.comparators_ending(text)
    for pos in range(len(text) + 2):
        assert lazy.get(pos) == full.get(pos)
    assert dict(lazy) == full and len(lazy) == len(full)


def test_bounded_comparator_ends_read_only_as_far_as_asked() -> None:
    text = "ANC < 2 " + "< 1 " * 1000
    read = 0

    def counted():  # type: ignore[no-untyped-def]
        nonlocal read
        for found in VOCAB.iter_comparators(text):
            read += 1
            yield found

    lazy = ComparatorEnds(counted())
    assert lazy.get(5) == VOCAB.comparators_ending(text).get(5)
    assert read <= 2


_CUE_PIECES = ["stage", "STAGE", "Grade", "class", "for patients with", "in", "women", "Men", " ", ", ",
               "II", "or", "A", "\u017ftage", "İ", "with or without", "unless", "female", "FOR"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_CUE_PIECES), max_size=14).map(" ".join))
def test_bounded_folded_cue_scans_find_what_the_patterns_find(text: str) -> None:
    cues = logic_cues()
    for found, pattern in ((cues.conditions(text), cues.condition_re), (cues.sex(text), cues.sex_re),
                           (cues.scales(text), cues.scale_re)):
        assert [(m.start, m.end, m.literal) for m in found] == [
            (m.start(), m.end(), " ".join(m.group(0).lower().split())) for m in pattern.finditer(text)
        ]


_LIMIT_PIECES = ["≤", "<", " ", "  ", "ULN", "the", "institutional", "upper limit of normal", "x", "2",
                 "LLN", "THE", "lab", "(", "site", "Hb", "local", "\n"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_LIMIT_PIECES), max_size=12).map(" ".join))
def test_bounded_bare_limit_lead_shortcut_finds_what_the_search_finds(text: str) -> None:
    pats = patterns(VOCAB)
    cmps = ComparatorsBefore(text, VOCAB)
    quantities = find_quantities(text, VOCAB, cmps)
    found = find_bare_limits(text, quantities, cmps, VOCAB)
    kept, pats.limit_lead_last = pats.limit_lead_last, None  # the search before every limit word
    try:
        plain = find_bare_limits(text, quantities, ComparatorsBefore(text, VOCAB), VOCAB)
    finally:
        pats.limit_lead_last = kept
    assert found == plain


def test_bounded_value_sets_of_a_long_list_of_scales() -> None:
    cues = logic_cues()
    one = "Child-Pugh class A or B, "
    sets = value_set_atoms(one * 400, [], cues, [])
    assert len(sets) == 400 and {a.node.value_set.values for a in sets if isinstance(a.node, ValueSetLeaf)} == {("A", "B")}


def _plain_prepared(text: str, mentions: list[Mention]) -> list[Mention]:
    """`prepare_mentions` with the kept mentions filtered after every rename."""
    from critparse.extract import analytes

    pats = analyte_patterns(VOCAB)
    out: list[Mention] = []
    for m in mentions:
        glued = (m.start > 0 and text[m.start - 1].isalnum()) or (m.end < len(text) and text[m.end].isalnum())
        if (m.own and glued) or analytes._NEGATED_PREFIX.search(text, max(0, m.start - 4), m.start):
            continue
        renamed = analytes._another_analyte(text, m, VOCAB, pats)
        if renamed is not None:
            m = renamed
            out = [o for o in out if not (m.start <= o.start and o.end <= m.end)]
        out.append(m)
    return out


@pytest.mark.parametrize(
    "text",
    ["stage II " * 40 + "sweat chloride, Tanner stage, ANC", "P/F ratio and F", "Ann Arbor stage III, stage IV",
     "International Staging System (ISS) stage II", "donor age, age, sweat chloride chloride"],
)
def test_bounded_renamed_mentions_keep_what_the_plain_filter_keeps(text: str) -> None:
    words = r"stage|chloride|ANC|age|P|F"
    mentions = [Mention(m.start(), m.end(), m.group(0), m.group(0).lower(), default_unit="a" if m.group(0) == "age" else None)
                for m in re.finditer(rf"\b(?:{words})\b", text)]
    assert prepare_mentions(text, mentions, VOCAB) == _plain_prepared(text, mentions)


def test_mention_is_a_value_hashed_by_its_fields() -> None:
    """Mentions are keys of sets and dicts: equal fields, equal hashes, as a frozen dataclass."""
    import dataclasses

    m = Mention(1, 4, "ANC", "anc", "751-8", "http://loinc.org", True, False, own=False, default_unit="10*9/L")
    assert [getattr(m, f.name) for f in dataclasses.fields(Mention)] == [
        1, 4, "ANC", "anc", "751-8", "http://loinc.org", True, False, False, "10*9/L", ()]
    assert dataclasses.replace(m, start=0) == Mention(0, 4, "ANC", "anc", "751-8", "http://loinc.org", own=False,
                                                      default_unit="10*9/L")
    assert hash(m) == hash(dataclasses.replace(m)) == hash(dataclasses.astuple(m))
    assert len({m, dataclasses.replace(m), dataclasses.replace(m, own=True)}) == 2


_GROUP_PIECES = ["ANC", "Hb", " ", "(", ")", " 1500", "and", "/", ", ", "corrected for", "(SGOT)", "x" * 12, "-"]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_GROUP_PIECES), max_size=24).map("".join))
def test_bounded_group_stops_where_no_gap_can_join(text: str) -> None:
    from critparse.extract.analytes import _group_before

    pats = analyte_patterns(VOCAB)
    mentions = [Mention(m.start(), m.end(), m.group(0), m.group(0).lower()) for m in re.finditer(r"\bANC\b|\bHb\b", text)]
    for hi in range(len(text) + 1):
        near = [m for m in mentions if m.start < hi]
        stopping = _group_before(near, text, 0, hi, pats, None, Asides(text), ends_in_order=True)
        assert stopping == _group_before(near, text, 0, hi, pats, None, Asides(text)), (text, hi)


@pytest.mark.parametrize("text", ["(ANC 1500) " * 40, "ANC and " * 30 + "1", "(ANC)/(Hb) x (ANC 1) and ANC 2"])
def test_bounded_letters_count_what_is_no_joiner(text: str) -> None:
    from critparse.extract.analytes import _JOINERS, _Letters

    letters = _Letters(text)
    for lo in range(0, len(text), 7):
        for hi in range(lo, len(text) + 1, 5):
            assert letters.between(lo, hi) == len(re.sub(_JOINERS.strip("*"), "", text[lo:hi])), (lo, hi)
            n = letters.between(lo, hi)
            back = letters.back_from(hi, n - 1) if n else -1
            assert back == (max(x for x in range(hi + 1) if letters.between(x, hi) > n - 1) if n else -1)


_LEAD = re.compile(r"^\(\?=\[(?:\\.|[^\]\\])*\]\)")
_LEAD_PIECES = ["for", "in", "among", "patients", "with", "who", "ſ", "K", "İ", "ı", "Age", "aged", "women",
                "on a", "using an", "(", " ", "  ", "-", "has", "HAS-BLED", "which", "1", "x", "children", "%"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_LEAD_PIECES), max_size=14).map(" ".join))
def test_bounded_first_character_leads_find_what_the_plain_patterns_find(text: str) -> None:
    from critparse.extract import analytes

    pats = analyte_patterns(VOCAB)
    leading = [pats.qualifier, pats.word_cut, pats.age_words, pats.people_words, pats.new_clause,
               analytes._CONDITION_LEAD, analytes._ON_A_SCALE, analytes._SUBGROUP]
    for pattern in leading:
        assert _LEAD.match(pattern.pattern), pattern.pattern[:40]
        plain = re.compile(_LEAD.sub("", pattern.pattern), pattern.flags)
        for pos in range(0, len(text) + 1, 3):
            for found, expected in ((pattern.search(text, pos), plain.search(text, pos)),
                                    (pattern.match(text, pos), plain.match(text, pos))):
                assert (found and found.span()) == (expected and expected.span()), (pattern.pattern[:40], text, pos)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t\n\u00a0\u2009\u3000\x1cx1", max_size=8))
def test_bounded_next_character_is_the_first_after_white_space(text: str) -> None:
    from critparse.extract.quantities import _next_character

    for pos in range(len(text) + 2):
        nxt = re.compile(r"\s*").match(text, min(pos, len(text))).end()  # type: ignore[union-attr]
        assert _next_character(text, pos) == (text[nxt : nxt + 1] if pos <= len(text) else "")
