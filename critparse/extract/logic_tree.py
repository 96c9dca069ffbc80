"""Atoms joined into a tree by the words between them.

Binding, tightest first: an atom with its conditions ('≤ 5 × ULN for patients with hepatic
metastases'); alternatives for one analyte (a conditional limit and the limit it replaces become
an `if` chain, a restatement in another unit a `same`); `with` (strict `and`); `and`; `or`; a comma
list, which takes the conjunction of its last item ('A, B, or C'; 'A, B or C'); clauses split by
`;` or a sentence end. A group in parentheses holding several atoms is read on its own first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from critparse.extract.atoms import Atom
from critparse.extract.conditions import Clause
from critparse.extract.logic_cues import LogicCues
from critparse.model.logic import Logic, Op
from critparse.model.unchecked import unchecked_model

__all__ = ["Region", "combine", "join", "make_if"]

_LIMIT_KINDS = ("x ULN", "x LLN")
_AND_CUTS = frozenset({"and", "aside", "aside_and"})
_OR_CUTS = frozenset({"or", "aside_or", "slash"})
_COMMA_CUTS = frozenset({"comma", "comma_or", "comma_and"})
_CLAUSE_CUTS = frozenset({"clause", "clause_or"})
_CLOSED_ASIDE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_CLAUSE_MARK = re.compile(r";|\.(?:\s|$)")
_CLAUSE_OR = re.compile(r"[;.]\s*or\b", re.IGNORECASE)
_WITH = re.compile(r"\bwith\b", re.IGNORECASE)
_OPENING = re.compile(r"\s*(?:(?:or|and|and/or|i\.e\.|e\.g\.)\s*)?", re.IGNORECASE)


@dataclass(init=False)  # __init__ written out: see COMPILED in setup.py
class Region:
    """What `combine` reads: the text with clause words blanked, and the clauses to apply."""

    text: str
    masked: str
    cues: LogicCues
    unless: list[tuple[Clause, Logic]]
    gaps: dict[tuple[int, int], str]  # the kind of each gap read, by its offsets
    closings: dict[int, int]  # where each opening parenthesis closes

    def __init__(self, text: str, masked: str, cues: LogicCues, unless: list[tuple[Clause, Logic]] | None = None,
                 gaps: dict[tuple[int, int], str] | None = None, closings: dict[int, int] | None = None) -> None:
        self.text, self.masked, self.cues = text, masked, cues
        self.unless = [] if unless is None else unless
        self.gaps = {} if gaps is None else gaps
        self.closings = {} if closings is None else closings


def join(op: str, parts: Sequence[Logic], *, enumeration: bool = False) -> Logic:
    """`op` over `parts`, flattening nested nodes of the same kind; one part stands alone (a
    node of the same kind flattened into itself is that node again)."""
    if len(parts) == 1:
        return parts[0]
    flat: list[Logic] = []
    for part in parts:
        if part.__class__ is Op and part.op == op and op in ("and", "or") and part.enumeration == enumeration:  # type: ignore[union-attr]
            flat.extend(part.args)
        else:
            flat.append(part)
    if len(flat) == 1:
        return flat[0]
    if op in ("and", "or"):  # two or more nodes: what `Op` checks, so it is built unvalidated
        return _op(op, tuple(flat), enumeration=enumeration and op == "and")
    return Op(op=op, args=tuple(flat), enumeration=enumeration and op == "and")  # type: ignore[arg-type]


def make_if(condition: Logic, then: Logic, otherwise: Logic | None = None) -> Logic:
    args = (condition, then) if otherwise is None else (condition, then, otherwise)
    return _op("if", args)


_OP_GIVEN = frozenset(["op", "args"])
_OP_GIVEN_ENUMERATION = frozenset(["op", "args", "enumeration"])


def _op(op: str, args: tuple[Logic, ...], *, enumeration: bool | None = None) -> Op:
    """`Op(op=op, args=args)` (and `enumeration=` when given) without validating again: the nodes
    are validated models and the caller gives an arity `Op` accepts (validating costs more than
    the rest of the logic pass on a long list; `tests/extract/test_logic.py` checks both agree)."""
    given = _OP_GIVEN if enumeration is None else _OP_GIVEN_ENUMERATION
    return unchecked_model(Op, {"op": op, "args": args, "n": None, "enumeration": bool(enumeration)}, given)


def _gap_kind(region: Region, left: Atom, right: Atom) -> str:
    """What joins two neighbouring atoms: clause, comma, or, and, with, aside or none (with an
    'or'/'and' suffix when a comma or parenthesis carries a conjunction). The masked text does
    not change while a region is read, so each gap is read once."""
    key = (left.end, right.start)
    kind = region.gaps.get(key)
    if kind is None:
        kind = region.gaps[key] = _read_gap(region.masked[left.end : right.start], region.cues)
    return kind


def _read_gap(gap: str, cues: LogicCues) -> str:
    if "(" in gap or "[" in gap:
        gap = _CLOSED_ASIDE.sub(" ", gap)  # '(ECHO or MUGA)' says nothing
    if (";" in gap or "." in gap) and _CLAUSE_MARK.search(gap):
        return "clause_or" if _CLAUSE_OR.search(gap) else "clause"
    conj = cues.conjunction(gap)
    if "(" in gap or "[" in gap:
        return f"aside_{conj}" if conj else "aside"
    if "," in gap:
        return f"comma_{conj}" if conj else "comma"
    if conj in (None, "and") and _WITH.search(gap):
        return "with"
    return conj or "none"


def _restates(a: Atom, b: Atom) -> bool:
    """'≥ 8 g/dL (5.0 mmol/L)': one limit in two units (never a limit of normal and an
    absolute value, which are alternatives)."""
    if set(a.analytes) != set(b.analytes) or a.conditions or b.conditions or a.requirements or b.requirements:
        return False
    if a.kind != "rules" or b.kind != "rules" or a.direction != b.direction or a.direction == "other":
        return False
    ua, ub = set(a.units), set(b.units)
    if ua & ub or None in ua or None in ub:
        return False
    return not ((ua & set(_LIMIT_KINDS)) or (ub & set(_LIMIT_KINDS)))


def _bounds_of_one_range(a: Atom, b: Atom, kind: str) -> bool:
    return (kind in ("and", "none", "comma_and") and a.kind == b.kind == "rules" and set(a.analytes) == set(b.analytes)
            and {a.direction, b.direction} == {"lower", "upper"} and not (a.conditions or b.conditions))


def _chains(a: Atom, b: Atom, kind: str) -> bool:
    """Alternative limits of which one holds under a condition: one `if` chain."""
    if kind in ("clause", "clause_or", "with"):
        return False
    same = set(a.analytes) == set(b.analytes) and a.kind == b.kind == "rules" and a.direction == b.direction
    if same and (a.conditions or b.conditions or a.requirements or b.requirements):
        return True  # a lower and an upper bound are a range, never alternatives
    return bool(a.conditions and b.conditions) and kind in ("or", "comma_or", "aside", "aside_or", "comma", "and")


def _guard(atom: Atom) -> Logic | None:
    """The condition under which an atom holds, from its conditions or (in a chain) its
    'with' requirements."""
    guards = atom.conditions or atom.requirements
    if not guards:
        return None
    return join("and", guards)


def _chain_node(members: Sequence[Atom]) -> Logic:
    """An `if` chain: each guarded member under its guard, the first unguarded one otherwise."""
    defaults = [m for m in members if _guard(m) is None]
    acc: Logic | None = defaults[0].node if defaults else None
    for member in reversed([m for m in members if _guard(m) is not None]):
        guard = _guard(member)
        assert guard is not None
        acc = make_if(guard, member.node, acc)
    rest = defaults[1:]
    assert acc is not None
    return join("or", [acc] + [m.node for m in rest]) if rest else acc


def _merge_alternatives(region: Region, atoms: list[Atom]) -> list[Atom]:
    """Neighbours that restate one limit become `same`; alternatives with conditions one chain.
    Every merge takes two neighbours that are not concepts (a concept never has conditions), so
    a run where each pair holds a concept is left as it is."""
    if all(a.kind == "concept" or b.kind == "concept" for a, b in pairwise(atoms)):
        return [_close([a]) for a in atoms]
    out: list[Atom] = []
    run: list[Atom] = []
    for atom in atoms:
        if run:
            kind = _gap_kind(region, run[-1], atom)
            if _bounds_of_one_range(run[-1], atom, kind):
                # 'HbA1c ≥ 7.5% and ≤ 11.0%': the two bounds of one range, read together even in a list
                run[-1] = _merged(run[-1], atom, join("and", [run[-1].node, atom.node]), keep_guards=True)
                continue
            if _restates(run[-1], atom) and kind in ("aside", "or", "aside_or", "comma", "none"):
                merged = _op("same", (run[-1].node, atom.node))
                run[-1] = _merged(run[-1], atom, merged, keep_guards=True)
                continue
            if _chains(run[-1], atom, kind) or (len(run) > 1 and _chains(run[0], atom, kind)):
                run.append(atom)
                continue
            if kind in ("aside", "aside_or", "aside_and") and len(run) == 1 and not atom.conditions \
                    and "concept" not in (run[-1].kind, atom.kind) and _opens_with(region, run[-1], atom):
                # 'ECOG ≤ 2 (Karnofsky ≥ 60%)': another measure of the same thing, an alternative
                op = "and" if kind == "aside_and" else "or"
                run[-1] = _merged(_close(run), _close([atom]), join(op, [_close(run).node, _close([atom]).node]))
                continue
            out.append(_close(run))
        run = [atom]
    if run:
        out.append(_close(run))
    return out


def _opens_with(region: Region, left: Atom, right: Atom) -> bool:
    """The parenthesis starts with the atom ('(Karnofsky ≥ 60%)', '(or ...'), not a remark."""
    gap = region.masked[left.end : right.start]
    inside = gap[gap.rfind("(") + 1 :] if "(" in gap else gap
    return bool(_OPENING.fullmatch(inside))


def _merged(a: Atom, b: Atom, node: Logic, *, keep_guards: bool = False) -> Atom:
    return Atom(
        start=min(a.start, b.start), core=a.core, end=max(a.end, b.end), node=node, kind=a.kind,
        analytes=tuple(dict.fromkeys(a.analytes + b.analytes)), units=a.units + b.units,
        comparators=a.comparators + b.comparators, rules=a.rules + b.rules,
        conditions=list(a.conditions) if keep_guards else [],
        requirements=list(a.requirements) if keep_guards else [],
    )


def _close(run: list[Atom]) -> Atom:
    """One atom for a run: a chain, or a single atom with its guards applied (an atom without
    guards stands for itself: what is read of a closed atom is its place and node)."""
    if len(run) > 1:
        node = _chain_node(run)
        first, last = run[0], run[-1]
        return Atom(start=first.start, core=first.core, end=last.end, node=node, kind="chain",
                    analytes=tuple(dict.fromkeys(a for m in run for a in m.analytes)))
    atom = run[0]
    if not atom.conditions and not atom.requirements:
        return atom
    node = atom.node
    if atom.conditions:
        node = make_if(join("and", atom.conditions), node)
    if atom.requirements:
        node = join("and", [node, *atom.requirements])
    return Atom(start=atom.start, core=atom.core, end=atom.end, node=node, kind=atom.kind,
                analytes=atom.analytes, units=atom.units, comparators=atom.comparators, rules=atom.rules)


def _split(atoms: list[Atom], kinds: list[str], stops: frozenset[str]) -> tuple[list[list[Atom]], list[list[str]], list[str]]:
    """Cut a run of atoms at the gaps whose kind is in `stops`: the pieces, their inner gap
    kinds, and the kinds of the cuts."""
    if atoms and stops.isdisjoint(kinds):
        return [list(atoms)], [list(kinds)], []
    pieces: list[list[Atom]] = [[atoms[0]]]
    inner: list[list[str]] = [[]]
    cuts: list[str] = []
    for atom, kind in zip(atoms[1:], kinds, strict=True):
        if kind in stops:
            pieces.append([atom])
            inner.append([])
            cuts.append(kind)
        else:
            pieces[-1].append(atom)
            inner[-1].append(kind)
    return pieces, inner, cuts


def _item(atoms: list[Atom], kinds: list[str]) -> Logic:
    """Atoms without commas between them: `with` binds first, then `or`, then words side by side
    (a strict `and`: 'corticosteroids > 0.5 mg/kg/day prednisone equivalent' is one thing), then
    `and` (a list). Criteria put alternatives side by side: 'ANC < 0.5 × 10⁹/L and a temperature
    ≥ 38.3 °C or ≥ 38.0 °C for an hour', 'creatinine ≤ 1.5 × ULN or clearance ≥ 60 mL/min and
    bilirubin ≤ 1.5 × ULN'. One atom is its own node (the joins below would rebuild it as it is)."""
    if len(atoms) == 1:
        return atoms[0].node
    parts: list[Logic] = []  # the list, cut at 'and'
    sides: list[Logic] = []  # one item's parts side by side, cut where nothing stands between
    alternatives: list[Logic] = []  # one side's alternatives, cut at 'or'
    group = [atoms[0].node]  # atoms joined by 'with'
    for atom, kind in zip(atoms[1:], kinds, strict=True):
        if kind in _OR_CUTS or kind == "none" or kind in _AND_CUTS:
            alternatives.append(join("and", group))
            group = []
            if kind not in _OR_CUTS:
                sides.append(join("or", alternatives))
                alternatives = []
                if kind in _AND_CUTS:
                    parts.append(join("and", sides))
                    sides = []
        group.append(atom.node)
    alternatives.append(join("and", group))
    sides.append(join("or", alternatives))
    parts.append(join("and", sides))
    return join("and", parts, enumeration=True)


def items_of(region: Region, atoms: list[Atom]) -> tuple[list[Logic], str]:
    """The comma-separated items of one clause and the operator their list takes."""
    atoms = _merge_alternatives(region, atoms)
    kinds = [_gap_kind(region, a, b) for a, b in pairwise(atoms)]
    pieces, inner, cuts = _split(atoms, kinds, _COMMA_CUTS)
    items = [_item(p, k) for p, k in zip(pieces, inner, strict=True)]
    if "comma_or" in cuts:
        return items, "or"
    last = inner[-1]
    if len(pieces) > 1 and cuts and all(len(p) == 1 for p in pieces[:-1]) and last == ["or"]:
        return [p[0].node for p in pieces[:-1]] + list(_or_args(items[-1])), "or"  # 'A, B or C'
    return items, "and"


def _or_args(node: Logic) -> tuple[Logic, ...]:
    return node.args if isinstance(node, Op) and node.op == "or" else (node,)


def clause_items(region: Region, atoms: list[Atom]) -> tuple[list[Logic], str]:
    """The items of a whole region: its clauses (split at `;` and sentence ends), each clause
    a comma list, an `unless` applied to the part of its clause before it."""
    if not atoms:
        return [], "and"
    kinds = [_gap_kind(region, a, b) for a, b in pairwise(atoms)]
    pieces, _, cuts = _split(atoms, kinds, _CLAUSE_CUTS)
    bounds = [p[0].start for p in pieces[1:]] + [len(region.text) + 1]
    if len(pieces) == 1:
        return _unless_items(region, pieces[0], bounds[0])
    nodes: list[Logic] = []
    for piece, hi in zip(pieces, bounds, strict=True):
        items, op = _unless_items(region, piece, hi)
        nodes.append(items[0] if len(items) == 1 else join(op, items, enumeration=op == "and"))
    op = "or" if cuts and all(c == "clause_or" for c in cuts) else "and"
    return nodes, op


_LEADING_GAP = re.compile(r"[\s,:]*")


def _opens_the_clause(text: str, clause: Clause, lo: int) -> bool:
    """Whether an `unless` clause opens the bullet or a sentence of it and runs up to the limit at
    `lo` ('Except in patients with X, platelets ≥ 100,000/µL')."""
    if not (clause.cue.start < lo and clause.end <= lo and _LEADING_GAP.fullmatch(text, clause.end, lo)):
        return False
    before = text[: clause.cue.start].rstrip()
    return not before or before.endswith((";", ".", ":"))


def _unless_items(region: Region, atoms: list[Atom], hi: int) -> tuple[list[Logic], str]:
    """'X unless C' is `if(not C, X)`; 'X unless C, in which case Y' (Y a limit of X's analyte)
    and 'X except patients with C (Y)' are `if(C, Y, X)`. `hi` is where the clause ends."""
    lo = atoms[0].start
    for clause, condition in list(region.unless):
        if _opens_the_clause(region.text, clause, lo):
            region.unless.remove((clause, condition))  # 'Except in patients with X, platelets ≥ 100,000/µL'
            items, op = items_of(region, atoms)
            return [make_if(_op("not", (condition,)), items[0] if len(items) == 1 else join(op, items, enumeration=op == "and"))], "and"
        if not lo <= clause.cue.start < hi:
            continue
        before = [a for a in atoms if a.end <= clause.cue.start]
        after = [a for a in atoms if a.start >= clause.cue.start]
        if not before or (not after and _opens_the_clause(region.text, clause, hi)):
            continue  # (an `unless` that opens the next sentence is that sentence's)
        region.unless.remove((clause, condition))
        items, op = items_of(region, before)
        scope = items[0] if len(items) == 1 else join(op, items, enumeration=op == "and")
        names = {n for a in before for n in a.analytes}
        alt = next((a for a in after if names & set(a.analytes)), None)
        if alt is not None:
            node = make_if(condition, _close([alt]).node, scope)
            after = [a for a in after if a is not alt]
        else:
            node = make_if(_op("not", (condition,)), scope)
        if not after:
            return [node], "and"
        rest, rest_op = _unless_items(region, after, hi)
        return [node, join(rest_op, rest, enumeration=rest_op == "and")], "and"
    return items_of(region, atoms)


def combine(region: Region, atoms: list[Atom], *, within: int = -1) -> tuple[list[Logic], str]:
    """The items of `atoms` and their operator, parenthesised groups of several atoms first
    (`within`: the opening of the group being read, which is not regrouped). One atom with
    no `unless` to apply is its own item (what the general reading gives it)."""
    if len(atoms) == 1 and not region.unless:
        return [_close(atoms).node], "and"
    atoms = _grouped(region, sorted(atoms, key=lambda a: (a.start, a.end)), within)
    return clause_items(region, atoms)


def _grouped(region: Region, atoms: list[Atom], within: int) -> list[Atom]:
    """Each top-level parenthesis holding two or more atoms becomes one atom of its own tree."""
    text = region.text
    if "(" not in text:
        return atoms
    out: list[Atom] = []
    i = 0
    while i < len(atoms):
        atom = atoms[i]
        open_at = text.rfind("(", within + 1, atom.core)
        close_at = _closing(region, open_at) if open_at > within else -1
        inside = [a for a in atoms[i:] if open_at < a.core and a.end <= close_at + 1] if close_at > atom.core else []
        if len(inside) >= 2 and all(a.end <= close_at + 1 for a in inside):
            items, op = combine(region, inside, within=open_at)
            node = items[0] if len(items) == 1 else join(op, items, enumeration=op == "and")
            out.append(Atom(start=min(open_at, inside[0].start), core=open_at, end=close_at + 1, node=node, kind="group",
                            analytes=tuple(dict.fromkeys(n for a in inside for n in a.analytes))))
            i += len(inside)
            continue
        out.append(atom)
        i += 1
    return out


def _closing(region: Region, open_at: int) -> int:
    """Where the parenthesis opening at `open_at` closes (-1: never); read once per opening."""
    close = region.closings.get(open_at)
    if close is None:
        close = region.closings[open_at] = _find_closing(region.text, open_at)
    return close


def _find_closing(text: str, open_at: int) -> int:
    depth = 0
    for m in _PARENTHESIS.finditer(text, open_at):
        depth += 1 if m.group() == "(" else -1
        if depth == 0:
            return m.start()
    return -1


_PARENTHESIS = re.compile(r"[()]")
