"""The logic pass: a criterion's rules, concepts and conditions joined into one tree.

`build_logic(text, rules, concepts=...)` reads the words between the atoms (see
`critparse.extract.logic_tree` for the binding order) and the conditions next to them
(`critparse.extract.conditions`), all wording coming from `resources/logic_cues.json`:

- `Serum creatinine ≤ 1.6 mg/dL or creatinine clearance ≥ 55 mL/min` -> `or(r0, r1)`;
- `ALT ≤ 3 × ULN (≤ 5 × ULN for patients with hepatic metastases)` -> `if(C, r1, r0)`, C the
  condition 'hepatic metastases';
- `Hemoglobin ≥ 8 g/dL (5.0 mmol/L)` -> `same(r0, r1)`;
- `QTcF > 450 ms in men or > 470 ms in women` -> `if(men, r0, if(women, r1))`;
- `Stage IIIA, IIIB or IV` -> a value set of exactly those categories.

It also mends two readings of the threshold extractor that only the logic shows: a condition's
words taken as a rule's analyte (`(if liver metastases ≤ 5 × ULN)` gives the rule the analyte of
the limit it replaces) and an age word of a condition taken as a rule ('Karnofsky ≥ 50 for
patients > 16 years of age or Lansky ≥ 50': the age band is a condition, not a rule).

`combine_children(parent_text, children)` gives a parent bullet's tree over its children
('at least two of the following:'), and `link_children(criteria)` sets it on a whole trial.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from critparse.extract.atoms import (
    Atom,
    ComparatorEnds,
    concept_atoms,
    concept_leaf,
    no_value_meets,
    rule_atoms,
    rule_leaf,
    rules_atom,
    value_set_atoms,
)
from critparse.extract.conditions import (
    Clause,
    bare_age_clauses,
    find_clauses,
    make_condition,
    paren_depths,
)
from critparse.extract.logic_cues import CueMatch, LogicCues, logic_cues
from critparse.extract.logic_tree import Region, combine, join, make_if
from critparse.lexicon.resources import Resources, default_resources
from critparse.model import unchecked
from critparse.model.concept import Concept
from critparse.model.criterion import Criterion
from critparse.model.logic import (
    ConceptLeaf,
    Condition,
    ConditionLeaf,
    CriterionLeaf,
    Logic,
    Op,
    RuleLeaf,
    ValueSet,
    ValueSetLeaf,
)
from critparse.model.rule import Rule

__all__ = [
    "LogicDraft",
    "build_logic",
    "combine_children",
    "flat_logic",
    "link_children",
    "quantified",
    "show_logic",
]

_TIME_UNITS = frozenset({"a", "mo", "wk", "d", "h", "min"})
_SHARED_UNIT_GAP = re.compile(r"\s*(?:,|or|and|/)?\s*", re.IGNORECASE)
_SEX_BEFORE_AGE = re.compile(r"[\s,(]*(?:(?:aged|ages?|between|from|of|who\s+are)\s*)?", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[;:,.]")
_CONNECTED = re.compile(r"[;,]|\.(?:\s|$)|\bor\b|\band\b|\(", re.IGNORECASE)
_LEAD_GAP = re.compile(r"[\s:,]*")
_LEADING_CLAUSE_GAP = re.compile(r"[^,;:()\[\]]{0,40}[,:]\s*")  # the rest of a clause that opens the bullet
_LIST_GAP = re.compile(r"[\s,]*")


@dataclass(slots=True, unsafe_hash=True, init=False)  # __init__ written out: see COMPILED in setup.py
class LogicDraft:
    """What the logic pass gives back: the rules (mended) and the tree over them; `problem`
    says why the words could not be read (the rules are then a plain list). Never changed once
    made (not declared frozen, as `Mention` is not)."""

    rules: tuple[Rule, ...]
    logic: Logic | None
    problem: str | None

    def __init__(self, rules: tuple[Rule, ...], logic: Logic | None, problem: str | None = None) -> None:
        self.rules, self.logic, self.problem = rules, logic, problem


def build_logic(
    text: str,
    rules: Sequence[Rule],
    *,
    concepts: Sequence[Concept] = (),
    expressions: Sequence[tuple[int, int] | None] | None = None,
    resources: Resources | None = None,
) -> LogicDraft:
    """The tree of one criterion bullet over its rules and concepts.

    `expressions`, when the extractor gives them, are the offsets of each rule's expression
    (comparator to unit); otherwise they are found again from the rules. Never raises on text:
    a bullet whose words cannot be read joins its atoms as a list and says why in `problem`.
    """
    try:
        return _build(text, rules, concepts, expressions, resources)
    except Exception as exc:  # free text never raises
        concept_leaves = [concept_leaf(j) for j in range(len(concepts))]
        parts = [p for p in (flat_logic(rules),) if p is not None] + concept_leaves
        tree = join("and", parts, enumeration=True) if parts else None
        return LogicDraft(tuple(rules), tree, f"{type(exc).__name__}: {exc}")


def _build(
    text: str, rules: Sequence[Rule], concepts: Sequence[Concept],
    expressions: Sequence[tuple[int, int] | None] | None, resources: Resources | None,
) -> LogicDraft:
    res = resources or default_resources()
    cues = logic_cues(res)
    work = list(rules)
    ending = ComparatorEnds(res.vocabulary.iter_comparators(text)) if work else {}
    atoms = rule_atoms(text, work, expressions, ending)
    dropped = _age_artefacts(work, atoms)
    atoms = [a for a in (_without(a, dropped, work, text) for a in atoms) if a is not None]
    _share_units(text, work, atoms, res)
    atoms = _with_value_sets(text, work, atoms, cues)
    atoms = sorted(atoms + concept_atoms(text, concepts, atoms, cues), key=lambda a: (a.start, a.end))
    if not atoms:
        return LogicDraft(tuple(rules), None)
    if all(a.kind == "concept" for a in atoms) and not cues.has_unless(text):
        region, main = Region(text=text, masked=text, cues=cues), list(atoms)  # no clause can be placed
    else:
        region, main = _clauses_attached(text, atoms, cues, concepts, work, dropped)
    subject = _subject(text, main, cues, concepts)
    if subject is not None:
        condition, main = subject
    main = _alternative_to_a_limit(text, work, main)
    if len(main) > 1 and (cues.subject_must_re.search(text) or cues.subject_may_re.search(text)):
        main = _sentence_subjects(text, main, cues, concepts)
    items, op = combine(region, main)
    tree = quantified(text, items, op, cues, first_atom=min(a.start for a in main) if main else len(text))
    tree = _denied(text, tree, main, cues)
    tree = _none_of(text, tree, concepts, cues)
    tree = _subgroup_limits(tree, work)
    if subject is not None and tree is not None:
        tree = make_if(condition, tree)
    return _reindexed(work, tree, dropped)


def _clauses_attached(text: str, atoms: list[Atom], cues: LogicCues, concepts: Sequence[Concept],
                      rules: list[Rule], dropped: set[int]) -> tuple[Region, list[Atom]]:
    """The conditions found and given to their atoms. A condition only ever goes to a limit or
    a value set, or (an `unless`) to the whole clause: over concepts alone without an `unless`
    cue, nothing is placed and the caller skips this."""
    clauses = find_clauses(text, atoms, cues)
    _mend_condition_analytes(text, rules, atoms, clauses, cues)
    # sex words matter between two atoms or before an age (see `_bare_sex`, `_sole_sex`)
    needs_sex = len(atoms) > 1 or any(a.kind == "rules" and a.analytes == ("age",) for a in atoms)
    sexes = cues.sex(text) if needs_sex else []
    extra = _bare_sex(text, atoms, clauses, sexes) + bare_age_clauses(text, atoms, clauses, cues)
    clauses = sorted(clauses + extra, key=lambda c: c.cue.start)
    region, main = _attach(text, atoms, clauses, cues, concepts, rules, dropped)
    _sole_sex(text, main, clauses, sexes)
    return region, main


# --- a limit, then what applies to those outside it -----------------------------------------


def _alternative_to_a_limit(text: str, rules: list[Rule], main: list[Atom]) -> list[Atom]:
    """'Proteinuria < 2+; participants with 2+ or more need a 24-hour protein ≤ 1 g': a later
    limit that no value within an earlier one meets (same analyte, same unit) says who the
    limits after it are for. Read as `and` the criterion could never be met; it is
    `if(later, what follows, otherwise=earlier)`. The later limit starts a clause of its own (not
    a parenthesis, a table row or an `or`, which say what they say already)."""
    plain = [a.kind == "rules" and not a.conditions and not a.requirements for a in main]
    for k in range(len(main) - 2):
        first, condition, after = main[k], main[k + 1], main[k + 2 :]
        if not (plain[k] and plain[k + 1]) or first.analytes != condition.analytes or len(first.analytes) != 1:
            continue
        if set(first.units) != set(condition.units) or not _disjoint(rules, first, condition):
            continue
        gap = text[first.end : condition.start]
        if not _CLAUSE_BREAK.search(gap) or "(" in gap or _OR_BETWEEN.search(gap) is not None:
            continue
        tree = make_if(condition.node, join("and", [a.node for a in after]), first.node)
        whole = Atom(first.start, first.core, after[-1].end, tree, kind="alternative",
                     analytes=first.analytes, units=first.units, rules=(*first.rules, *condition.rules))
        return [*main[:k], whole]
    return main


_OR_BETWEEN = re.compile(r"\bor\b|/", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[;,]|\.(?:\s|$)")


def _disjoint(rules: list[Rule], a: Atom, b: Atom) -> bool:
    """Whether no value meets every bound of `a` and every bound of `b`."""
    return no_value_meets(rules, (*a.rules, *b.rules))


# --- mending the extractor's reading ---------------------------------------------------------


def _age_artefacts(rules: list[Rule], atoms: list[Atom]) -> set[int]:
    """An age rule that shares its expression, comparator and value with a score of another
    analyte took its age word from a condition before it ('for patients > 16 years of age or
    Lansky ≥ 50'): the score is the rule."""
    dropped: set[int] = set()
    for atom in atoms:
        for i in atom.rules:
            r = rules[i]
            if r.analyte.name != "age":
                continue
            if any(rules[j].analyte.name != "age" and rules[j].comparator == r.comparator
                   and rules[j].value == r.value and rules[j].unit not in _TIME_UNITS for j in atom.rules):
                dropped.add(i)
    return dropped


def _without(atom: Atom, dropped: set[int], rules: list[Rule], text: str) -> Atom | None:
    kept = [i for i in atom.rules if i not in dropped]
    if len(kept) == len(atom.rules):
        return atom
    if not kept:
        return None
    own = [rules[i].span.start for i in kept if rules[i].text.startswith(rules[i].analyte.text)]
    start = max(min(own), atom.start) if own else atom.core
    return rules_atom(text, rules, kept, start, atom.core, atom.end)


def _share_units(text: str, rules: list[Rule], atoms: list[Atom], resources: Resources) -> None:
    """A unit written once for two limits joined only by a conjunction: a bare number before the
    same analyte's limit ('Creatinine ≤ 1.5 or 1.4 mg/dL'), or a named limit before another
    analyte's whose unit is also its own usual unit ('SBP ≥ 140 or DBP ≥ 90 mmHg')."""
    for a, b in pairwise(atoms):
        if a.kind != "rules" or b.kind != "rules" or any(rules[i].unit is not None for i in a.rules):
            continue
        if len({rules[i].unit for i in b.rules}) != 1:
            continue
        donor = rules[b.rules[0]]
        if donor.unit is None or donor.unit in _TIME_UNITS:
            continue
        if not (_same_analyte_bare(text, a, b) or _pair_of_a_kind(text, rules, a, b, resources)):
            continue
        for i in a.rules:
            rules[i] = rules[i].model_copy(update={"unit": donor.unit, "unit_text": donor.unit_text})
        a.units = tuple(donor.unit for _ in a.rules)


_PAIR_GAP = re.compile(r"\s*,?\s*(?:or|and|and/or)\s+", re.IGNORECASE)


def _same_analyte_bare(text: str, a: Atom, b: Atom) -> bool:
    return set(a.analytes) == set(b.analytes) and b.start == b.core and bool(_SHARED_UNIT_GAP.fullmatch(text[a.end : b.core]))


def _pair_of_a_kind(text: str, rules: list[Rule], a: Atom, b: Atom, resources: Resources) -> bool:
    """Two named limits of analytes whose usual unit is the one written after the second."""
    if len(a.rules) != 1 or len(b.rules) != 1 or a.start == a.core or b.start == b.core:
        return False
    if not _PAIR_GAP.fullmatch(text, a.end, b.start):
        return False
    unit = rules[b.rules[0]].unit
    mine, theirs = (resources.analytes.by_name(rules[x.rules[0]].analyte.name) for x in (a, b))
    return mine is not None and theirs is not None and not mine.unitless and mine.default_unit == unit == theirs.default_unit


def _with_value_sets(text: str, rules: list[Rule], atoms: list[Atom], cues: LogicCues) -> list[Atom]:
    """Value sets replace the atoms whose bounds they say exactly."""
    sets = value_set_atoms(text, rules, cues, atoms)
    if not sets:
        return atoms
    covered = {i for v in sets for i in v.rules}
    kept = [a for a in atoms if not (set(a.rules) & covered)]
    return kept + sets


def _mend_condition_analytes(text: str, rules: list[Rule], atoms: list[Atom], clauses: list[Clause],
                             cues: LogicCues) -> None:
    """'(if liver metastases ≤ 5 × ULN)': the words after the cue are the condition and the
    limit restates the analyte of the limit before it, with the same kind of unit; so does a
    limit whose analyte words are a cue ('unless ..., in which case ≤ 3 × ULN')."""
    for atom in atoms:
        if atom.kind == "rules" and not any(rules[i].analyte.in_lexicon for i in atom.rules):
            words = rules[atom.rules[0]].analyte.text
            if words and cues.condition_re.fullmatch(words.strip()):
                _give_analyte(rules, atom, atoms)
    for clause in clauses:
        if clause.role not in ("if", "unless") or len(clause.inner) != 1:
            continue
        atom = clause.inner[0]
        if atom.kind != "rules" or any(rules[i].analyte.in_lexicon for i in atom.rules):
            continue
        if atom.core <= clause.start or not _give_analyte(rules, atom, atoms, before=clause.cue.start):
            continue
        clause.inner, clause.end = [], _trimmed_end(text, clause.start, atom.core)


def _give_analyte(rules: list[Rule], atom: Atom, atoms: Sequence[Atom], *, before: int | None = None) -> bool:
    """Give `atom`'s rules the analyte of the nearest earlier limit with the same kind of
    unit; False when there is none."""
    limit = atom.start if before is None else before
    donor = next((a for a in reversed(atoms) if a.end <= limit and a.kind == "rules"
                  and set(a.units) & set(atom.units)), None)
    if donor is None:
        return False
    analyte = rules[donor.rules[0]].analyte
    for i in atom.rules:
        rules[i] = rules[i].model_copy(update={"analyte": analyte})
    atom.analytes, atom.start = (analyte.name,), atom.core
    return True


def _trimmed_end(text: str, start: int, end: int) -> int:
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",:=("):
        end -= 1
    return end


# --- conditions without a cue: '(men)', 'male >450 ms, female >470 ms' ------------------------


def _bare_sex(text: str, atoms: list[Atom], clauses: list[Clause], sexes: list[CueMatch]) -> list[Clause]:
    """Sex words that pick a limit (`sexes`: the sex words of the text): each next to its own
    atom, both sexes named."""
    if not sexes:
        return []
    used = [(c.cue.start, c.end) for c in clauses if not c.inner]
    found = [m for m in sexes
             if not any(s <= m.start < e for s, e in used)
             and not any(a.core <= m.start < a.end for a in atoms)]
    if len({m.meaning for m in found}) < 2:
        return []
    out = [Clause("if", m, m.start, m.end, sex=m.meaning) for m in found]
    depths = paren_depths(text)
    targets = [_target(text, c, atoms, depths) for c in out]
    if None in targets or len({id(t) for t in targets}) != len(targets):
        return []
    return out


def _sole_sex(text: str, main: list[Atom], clauses: list[Clause], sexes: list[CueMatch]) -> None:
    """'Women aged 45 to 70 years': one sex named as the subject, right before an age, is a
    requirement of the criterion (`sexes`: the sex words of the text)."""
    ages = [a for a in main if a.kind == "rules" and a.analytes == ("age",)]
    if not ages or not sexes:
        return
    used = [(c.cue.start, c.end) for c in clauses if not c.inner]
    found = [m for m in sexes if m.end <= ages[0].start and not any(s <= m.start < e for s, e in used)]
    if len({m.meaning for m in sexes}) != 1 or not found:
        return
    word = found[-1]
    if not _SEX_BEFORE_AGE.fullmatch(text[word.end : ages[0].start]):
        return
    ages[0].requirements.append(ConditionLeaf(condition=Condition(
        text=text[word.start : word.end], span=unchecked.span(word.start, word.end), kind="sex",
        sex=word.meaning)))  # type: ignore[arg-type]


def _denied(text: str, tree: Logic | None, main: list[Atom], cues: LogicCues) -> Logic | None:
    """'Must not have ALT > 3 × ULN', 'No evidence of QTc > 480 ms': a negation right before the
    first limit denies the whole criterion. Concepts carry their own negation, so a tree with a
    concept is left as it is (a concept leaf comes only from a concept atom, and every atom of
    `main` is in the tree)."""
    if tree is None or not main or any(a.kind == "concept" for a in main):
        return tree
    first = min(a.start for a in main)
    for cue in cues.negation_re.finditer(text, 0, first):
        between = text[cue.end() : first]
        if len(between.split()) <= 3 and not _PUNCTUATION.search(between):
            return Op(op="not", args=(tree,))
    return tree


def _subgroup_limits(tree: Logic | None, rules: Sequence[Rule]) -> Logic | None:
    """'Bilirubin < 1.5 × ULN; for patients with Gilbert's syndrome, bilirubin < 3 × ULN': a limit,
    and later a limit of the same analyte and direction for a group, are one `if` (the group's
    limit, otherwise the first). Read side by side, the group could never pass the first."""
    return None if tree is None else _subgroup_node(tree, rules)


def _subgroup_node(tree: Logic, rules: Sequence[Rule]) -> Logic:
    if not isinstance(tree, Op):
        return tree
    args = [_subgroup_node(a, rules) for a in tree.args]
    if tree.op == "and":
        for j, late in enumerate(args):
            if not (isinstance(late, Op) and late.op == "if" and len(late.args) == 2):
                continue
            key = _limit_key(late.args[1], rules)
            i = next((i for i in range(j) if key is not None and _limit_key(args[i], rules) == key), None)
            if i is not None:
                args[i] = make_if(late.args[0], late.args[1], args[i])
                del args[j]
                if len(args) == 1:
                    return args[0]
                break
    return tree if args == list(tree.args) else tree.model_copy(update={"args": tuple(args)})


def _limit_key(node: Logic, rules: Sequence[Rule]) -> tuple[str, str, str | None] | None:
    """(analyte, direction, unit) of a node that is one plain limit, else None."""
    if not isinstance(node, RuleLeaf) or node.rule >= len(rules):
        return None
    rule = rules[node.rule]
    direction = "upper" if rule.comparator in ("<", "<=") else "lower" if rule.comparator in (">", ">=") else None
    return None if direction is None else (rule.analyte.name, direction, rule.unit)


def _none_of(text: str, tree: Logic | None, concepts: Sequence[Concept], cues: LogicCues) -> Logic | None:
    """'No history of stroke or TIA' is neither: an `or` of concepts one negation covers holds
    when none of them is there, so it is an `and` of the negated concepts (each carries the
    negation). 'No stroke or no TIA', where each has its own, stays an `or`."""
    if not isinstance(tree, Op):
        return tree
    args = tuple(_none_of(text, a, concepts, cues) for a in tree.args)
    if tree.op == "or" and all(isinstance(a, ConceptLeaf) and a.concept < len(concepts) and concepts[a.concept].negated
                               for a in args):
        spans = sorted((concepts[a.concept].span.start, concepts[a.concept].span.end) for a in args if isinstance(a, ConceptLeaf))
        if not any(cues.negation_re.search(text, x[1], y[0]) for x, y in pairwise(spans)):
            return tree.model_copy(update={"op": "and", "args": args})
    return tree if args == tree.args else tree.model_copy(update={"args": args})


_SUBJECT_LINK = re.compile(r"\s*(?:with|who\s+(?:have|has|are|is|had|were|received|are\s+receiving)|who|that|having|on|receiving|taking)\b",
                           re.IGNORECASE)


def _subject(text: str, main: list[Atom], cues: LogicCues, concepts: Sequence[Concept],
             at: int | None = None, to: int | None = None) -> tuple[Logic, list[Atom]] | None:
    """'Patients with cardiac disease must have LVEF ≥ 45%', 'Female patients must ...': the
    subject is a condition and what they must meet holds only for them; the condition and the
    atoms after the verb, or None when the bullet (or the sentence from `at` to `to`) does not
    start so."""
    to = len(text) if to is None else to
    lead = cues.subject_lead_re.match(text, len(text) - len(text.lstrip()) if at is None else at)
    if lead is None:
        return None
    verbs = [m for m in (cues.subject_must_re.search(text, lead.end(), to), cues.subject_may_re.search(text, lead.end(), to)) if m]
    must = min(verbs, key=re.Match.start) if verbs else None
    if must is None:
        return None
    link = _SUBJECT_LINK.match(text, lead.end())
    words_from = link.end() if link else lead.start()
    if not text[words_from : must.start()].strip() or (link is None and not _sex_subject(text, lead, must, cues)):
        return None
    inside = [a for a in main if lead.start() <= a.start < must.start()]
    after = [a for a in main if must.end() <= a.start < to]
    if not after or any(a.end > must.start() for a in inside):
        return None
    if must.re is cues.subject_may_re and any(a.kind == "concept" for a in after):
        return None  # 'may have received prior nephrectomy' grants, it does not require
    rules_inside = [a for a in inside if a.kind != "concept"]
    if rules_inside:
        condition = join("and", [a.node for a in rules_inside])
    else:
        start = words_from + len(text[words_from : must.start()]) - len(text[words_from : must.start()].lstrip())
        end = must.start() - (len(text[: must.start()]) - len(text[: must.start()].rstrip()))
        condition = ConditionLeaf(condition=make_condition(text, start, end, cues, concepts))
    return condition, after


_SENTENCE_BREAK = re.compile(r"[;.]\s+")


def _sentence_subjects(text: str, main: list[Atom], cues: LogicCues, concepts: Sequence[Concept]) -> list[Atom]:
    """A later sentence with a subject ('...; patients with Gilbert's syndrome may enrol with
    bilirubin < 3 × ULN'): its limits hold for the subject only, as one atom `if(subject, ...)`."""
    breaks = [m.end() for m in _SENTENCE_BREAK.finditer(text)]
    for k, at in enumerate(breaks):
        if not any(a.start < at for a in main if a.kind != "concept"):
            continue  # the first sentence with a limit is the bullet's own subject (`_subject`)
        to = next((b for b in breaks[k + 1 :]), len(text))
        found = _subject(text, main, cues, concepts, at, to)
        if found is None:
            continue
        condition, after = found
        tree = make_if(condition, join("and", [a.node for a in after]))
        whole = Atom(at, after[0].core, after[-1].end, tree, kind="alternative", analytes=after[0].analytes,
                     units=after[0].units, rules=tuple(r for a in after for r in a.rules))
        return [a for a in main if a.start < at] + [whole] + [a for a in main if a.start >= to]
    return main


def _sex_subject(text: str, lead: CueMatch | re.Match[str], must: re.Match[str], cues: LogicCues) -> bool:
    """'Women of childbearing potential must', 'Female patients must': a sex before the verb."""
    start = lead.start if isinstance(lead, CueMatch) else lead.start()
    return bool(cues.sex(text[start : must.start()]))


# --- attaching clauses -------------------------------------------------------------------------


def _connected(gap: str) -> bool:
    """A conjunction or clause mark stands between: the words belong to what follows."""
    return bool(_CONNECTED.search(gap))


def _target(text: str, clause: Clause, atoms: Sequence[Atom], depths: Sequence[int]) -> Atom | None:
    """The atom a condition belongs to: inside a parenthesis, the atom with it there (after it
    first), else the atom before the parenthesis; outside, the atom before it unless a
    conjunction stands between, else the atom right after it."""
    main = [a for a in atoms if a.kind != "concept"] or list(atoms)
    owner = next((a for a in main if a.start <= clause.cue.start < a.core), None)
    if owner is not None:
        return owner  # 'QTc (male > 450 ms': the words before the limit, inside its own span
    if depths[clause.cue.start] > 0:
        open_at = text.rfind("(", 0, clause.cue.start + 1)
        close_at = text.find(")", clause.end)
        close_at = len(text) if close_at < 0 else close_at
        inside = [a for a in main if open_at < a.core < close_at]
        after = [a for a in inside if a.core >= clause.end]
        before_in = [a for a in inside if a.end <= clause.cue.start + 1]
        if after and (not before_in or text[clause.end : after[0].start].strip(" :") == ""):
            return after[0]
        if before_in:
            return before_in[-1]
        if text[open_at + 1 : clause.cue.start].strip():
            return None  # a remark in the parenthesis ('transfusion allowed ... if given ...')
        before = [a for a in main if a.end <= open_at + 1]
        return before[-1] if before else None
    prev = [a for a in main if a.end <= clause.cue.start]
    nxt = [a for a in main if a.start >= clause.end]
    if prev and not _connected(text[prev[-1].end : clause.cue.start]):
        return prev[-1]
    if nxt and _LEAD_GAP.fullmatch(text[clause.end : nxt[0].start]):
        return nxt[0]
    if nxt and not prev and _LEADING_CLAUSE_GAP.fullmatch(text[clause.end : nxt[0].start]):
        return nxt[0]  # 'If liver metastases are present, ALT ≤ 5 × ULN'
    return None


def _siblings(atom: Atom, atoms: Sequence[Atom]) -> bool:
    """Another limit of the same analyte and direction: an alternative (not the other bound)."""
    return any(a is not atom and a.kind == "rules" and set(a.analytes) == set(atom.analytes)
               and a.direction == atom.direction for a in atoms)


def _condition_node(text: str, clause: Clause, cues: LogicCues, concepts: Sequence[Concept],
                    rules: list[Rule], dropped: set[int]) -> Logic | None:
    """The tree of a clause's condition: its own atom, an age band, or a condition leaf."""
    if clause.sex is not None:
        return ConditionLeaf(condition=Condition(
            text=text[clause.start : clause.end], span=unchecked.span(clause.start, clause.end),
            kind="sex", sex=clause.sex))  # type: ignore[arg-type]
    if clause.inner:
        atom = clause.inner[0]
        if atom.analytes == ("age",) and atom.kind == "rules":
            dropped.update(atom.rules)  # an age band that picks a limit is not a rule
            return ConditionLeaf(condition=Condition(
                text=text[atom.start : atom.end], span=unchecked.span(atom.start, atom.end), kind="age",
                thresholds=tuple(rules[i] for i in atom.rules)))
        return atom.node
    if clause.end <= clause.start:
        return None
    start = clause.start
    negation = _NEGATION.match(text, start, clause.end)
    if negation is not None and negation.end() < clause.end:
        start = negation.end()  # 'provided that no growth factor was given': not(growth factor ...)
    bare_age = (clause.bare_age or bool(cues.population_re.search(clause.cue.literal))  # 'for patients ≤ 16 years'
                or clause.cue.literal.lower() in ("if", "when"))  # '(≥ 50 mL/min if over 70 years)'
    leaf = ConditionLeaf(condition=make_condition(text, start, clause.end, cues, concepts, bare_age=bare_age))
    return Op(op="not", args=(leaf,)) if negation is not None and negation.end() < clause.end else leaf


_NEGATION = re.compile(r"(?:no|not|neither|without|absence\s+of)\s+(?:(?:prior|previous|any|current|known)\s+)?",
                       re.IGNORECASE)


def _attach(text: str, atoms: list[Atom], clauses: list[Clause], cues: LogicCues,
            concepts: Sequence[Concept], rules: list[Rule], dropped: set[int]) -> tuple[Region, list[Atom]]:
    """Give each clause to its atom (or to the `unless` list); the atoms left are the main ones."""
    if not clauses:
        return Region(text=text, masked=text, cues=cues), list(atoms)
    depths = paren_depths(text)
    masked = list(text)
    inner_ids = {id(a) for c in clauses if c.role != "with" for a in c.inner}
    main = [a for a in atoms if id(a) not in inner_ids]
    region = Region(text=text, masked="", cues=cues)
    _respectively(text, main, clauses, cues, concepts)
    for clause in clauses:
        if clause.role in ("respectively", "otherwise", "in_which_case", "done") or (clause.role == "with" and clause.inner):
            continue
        node = _condition_node(text, clause, cues, concepts, rules, dropped) if _placeable(clause) else None
        if node is None or not _place(text, clause, node, main, region, depths):
            if clause.inner and not (clause.inner[0].analytes == ("age",) and clause.role == "if" and not clause.weak):
                dropped.difference_update(clause.inner[0].rules)  # an age band after 'in patients' stays no rule
                main.append(clause.inner[0])
            continue
        blank_to = max(clause.end, clause.cue.end)
        masked[clause.cue.start : blank_to] = " " * (blank_to - clause.cue.start)
        covered = _with_aside(text, clause.start, clause.end)
        main[:] = [a for a in main if not (a.kind == "concept" and covered[0] <= a.start and a.end <= covered[1])]
    region.masked = "".join(masked)
    return region, main


def _with_aside(text: str, start: int, end: int) -> tuple[int, int]:
    """A clause's words and the parenthesis right after them ('with a comorbidity
    (hypertension, dyslipidemia)'): the concepts there are the condition's examples."""
    after = len(text) - len(text[end:].lstrip()) if end < len(text) else end
    if after < len(text) and text[after] == "(":
        close = text.find(")", after)
        return start, (close + 1 if close > 0 else len(text))
    return start, end


def _placeable(clause: Clause) -> bool:
    return clause.end > clause.start or bool(clause.inner) or clause.sex is not None


def _place(text: str, clause: Clause, node: Logic, main: list[Atom], region: Region, depths: Sequence[int]) -> bool:
    """Put one condition where it belongs; False when it belongs nowhere (a weak cue that
    picks no limit, a 'with' that is no requirement)."""
    if clause.role == "unless":
        region.unless.append((clause, node))
        return True
    target = _target(text, clause, main, depths)
    if target is None or target.kind == "concept":
        return False
    if clause.bare_age and (target.analytes == ("age",) or text[target.end : clause.cue.start].strip()):
        return False  # an age band explains the limit right before it, never another age
    if clause.weak and not _weak_holds(node, target, main, text[target.end : clause.cue.start]):
        return False
    if clause.role in ("with", "without"):
        if target.end > clause.cue.start or _connected(text[target.end : clause.cue.start]):
            return False  # 'Patients with ...': the words are the subject, not a requirement
        target.requirements.append(Op(op="not", args=(node,)) if clause.role == "without" else node)
        return True
    target.conditions.append(node)
    return True


def _weak_holds(node: Logic, target: Atom, atoms: Sequence[Atom], gap: str) -> bool:
    """'in', 'for': a condition before a sex, age, region or group of people, or when the
    limit has an alternative for the same analyte ('> 400 pg/mL in sinus rhythm or ...') and
    no parenthesis closes between them ('(male > 450 ms, female > 470 ms) in ECG')."""
    if isinstance(node, ConditionLeaf) and node.condition.kind in ("sex", "age", "region", "population"):
        return True
    return ")" not in gap and _siblings(target, atoms)


def _respectively(text: str, atoms: list[Atom], clauses: list[Clause], cues: LogicCues,
                  concepts: Sequence[Concept]) -> None:
    """'≥ 13 and ≥ 12 g/dL for men and women, respectively': the listed conditions go, in
    order, to the limits before the list."""
    for resp in [c for c in clauses if c.role == "respectively"]:
        listed = next((c for c in reversed(clauses) if c.end <= resp.cue.start and c.role == "if"
                       and _LIST_GAP.fullmatch(text[c.end : resp.cue.start])), None)
        if listed is None:
            continue
        parts = _listed(text, listed.start, listed.end)
        before = [a for a in atoms if a.end <= listed.cue.start and a.kind == "rules"]
        if len(parts) < 2 or len(before) < len(parts):
            continue
        for atom, (s, e) in zip(before[-len(parts):], parts, strict=True):
            atom.conditions.append(ConditionLeaf(condition=make_condition(text, s, e, cues, concepts)))
        listed.role = "done"


def flat_logic(rules: Sequence[Rule]) -> Logic | None:
    """The tree of rules read without their words: a list of expressions, the bounds of one
    expression (a range, one analyte) joined by `and`. What a criterion without `logic` means."""
    groups: dict[tuple[int, int, str], list[int]] = {}
    for i, rule in enumerate(rules):
        groups.setdefault((rule.span.start, rule.span.end, rule.analyte.name), []).append(i)
    parts = [join("and", [rule_leaf(i) for i in members]) for members in groups.values()]
    return join("and", parts, enumeration=True) if parts else None


_LIST_SEPARATOR = re.compile(r"\s*(?:,|/|\band/or\b|\band\b|\bor\b)\s*", re.IGNORECASE)


def _listed(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans of the items of a short list ('men and women', 'males/females')."""
    out = []
    lo = start
    for sep in [*_LIST_SEPARATOR.finditer(text, start, end), None]:
        hi = end if sep is None else sep.start()
        words = text[lo:hi]
        if words.strip():
            first = lo + len(words) - len(words.lstrip())
            out.append((first, first + len(words.strip())))
        if sep is not None:
            lo = sep.end()
    return out


# --- quantifiers, children ---------------------------------------------------------------------


def quantified(text: str, items: list[Logic], op: str, cues: LogicCues, *, first_atom: int) -> Logic | None:
    """The items joined as the text says: 'at least two of the following' before the first
    item makes an `at_least`, 'none of' a `not` of their `or`; otherwise `op` (a list)."""
    if not items:
        return None
    found = cues.quantifier(text[:first_atom]) if len(items) > 1 else None
    if found is not None:
        q_op, n, _ = found
        return _quantifier_node(q_op, n, items)
    return join(op, items, enumeration=op == "and")


def _quantifier_node(op: str, n: int | None, items: Sequence[Logic]) -> Logic:
    if op == "at_least" and n is not None:
        if n <= 1:
            return join("or", items)
        if n >= len(items):
            return join("and", items)
        return Op(op="at_least", n=n, args=tuple(items))
    if op == "none":
        return Op(op="not", args=(join("or", items),))
    if op == "not_all":
        return Op(op="not", args=(join("and", items),))
    return join(op, items)


def combine_children(
    parent_text: str, children: Sequence[str | Logic], *, own: Logic | None = None,
    resources: Resources | None = None,
) -> Logic | None:
    """The tree of a parent bullet over its children, as the parent says: 'all of the
    following' (and), 'one of' / 'any of' (or), 'at least two of' (at_least), 'none of' (not
    or); without such words the children are a list. `children` are the children's paths
    (or ready leaves); `own` is the parent's own tree, joined with `and`."""
    if not children:
        return own
    leaves = [CriterionLeaf(criterion=c) if isinstance(c, str) else c for c in children]
    found = logic_cues(resources).quantifier(parent_text)
    if found is not None and len(leaves) > 1:
        node = _quantifier_node(found[0], found[1], leaves)
    else:
        node = join("and", leaves, enumeration=True)
    return node if own is None else join("and", [own, node])


def link_children(criteria: Sequence[Criterion], *, resources: Resources | None = None) -> list[Criterion]:
    """A trial's criteria with each parent's `logic` combining its children (by path:
    'inclusion/3/a' is a child of 'inclusion/3'), its own tree kept beside them."""
    paths = {c.path for c in criteria}
    children: dict[str, list[str]] = {}
    for c in criteria:
        parent = c.path.rsplit("/", 1)[0] if "/" in c.path else None
        if parent is not None and parent in paths and c.kind != "header":
            children.setdefault(parent, []).append(c.path)
    out = []
    for c in criteria:
        kids = children.get(c.path)
        if kids and c.kind != "header" and not _has_children(c.logic):
            c = c.model_copy(update={"logic": combine_children(c.text, kids, own=c.logic, resources=resources)})
        out.append(c)
    return out


def _has_children(node: Logic | None) -> bool:
    if node is None:
        return False
    if isinstance(node, CriterionLeaf):
        return True
    return isinstance(node, Op) and any(_has_children(a) for a in node.args)


# --- reading a tree ---------------------------------------------------------------------------


def show_logic(node: Logic | None, rules: Sequence[Rule] = (), concepts: Sequence[Concept] = ()) -> str:
    """A tree as one line, for people and tests: `or(creatinine <= 1.6 mg/dL, creatinine
    clearance >= 55 mL/min)`, `if(<hepatic metastases>, alt <= 5 x ULN, alt <= 3 x ULN)`; a
    list is `list(...)`, a condition `<its words>`, a concept `"its words"`, a value set
    `stage in {IIIA, IIIB, IV}`, another criterion `#its path`."""
    if node is None:
        return "-"
    if isinstance(node, RuleLeaf):
        if node.rule >= len(rules):
            return f"rule {node.rule}"
        r = rules[node.rule]
        return f"{r.analyte.name} {r.comparator} {r.value:g}" + (f" {r.unit}" if r.unit else "")
    if isinstance(node, ConditionLeaf):
        return f"<{node.condition.text}>"
    if isinstance(node, ConceptLeaf):
        return f'"{concepts[node.concept].text}"' if node.concept < len(concepts) else f"concept {node.concept}"
    if isinstance(node, ValueSetLeaf):
        return f"{node.value_set.analyte.name} in {{{', '.join(node.value_set.values)}}}"
    if isinstance(node, CriterionLeaf):
        return f"#{node.criterion}"
    name = "list" if node.enumeration else node.op
    inner = ", ".join(show_logic(a, rules, concepts) for a in node.args)
    return f"{name}({node.n}: {inner})" if node.op == "at_least" else f"{name}({inner})"


# --- indices -----------------------------------------------------------------------------------


def _reindexed(rules: list[Rule], tree: Logic | None, dropped: set[int]) -> LogicDraft:
    """Rules without the dropped ones, and the tree's rule indices moved to match (an
    unchanged tree when none is dropped: every index maps to itself)."""
    if not dropped or not dropped.intersection(range(len(rules))):
        return LogicDraft(tuple(rules), tree)
    mapping: dict[int, int] = {}
    kept: list[Rule] = []
    for i, rule in enumerate(rules):
        if i not in dropped:
            mapping[i] = len(kept)
            kept.append(rule)
    return LogicDraft(tuple(kept), None if tree is None else _renumber(tree, mapping))


def _renumber(node: Logic, mapping: dict[int, int]) -> Logic:
    if isinstance(node, RuleLeaf):
        return rule_leaf(mapping[node.rule])
    if isinstance(node, ValueSetLeaf):
        vs: ValueSet = node.value_set
        return ValueSetLeaf(value_set=vs.model_copy(update={"rules": tuple(mapping[i] for i in vs.rules if i in mapping)}))
    if isinstance(node, Op):
        return node.model_copy(update={"args": tuple(_renumber(a, mapping) for a in node.args)})
    return node


_ = CueMatch  # re-exported for callers that build clauses by hand
