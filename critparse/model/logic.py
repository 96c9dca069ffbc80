"""The logic contract: how the atoms of a criterion (its rules, concepts, conditions and value
sets) combine into one statement a screener can evaluate.

A criterion is a logical statement, not a list of numbers: `Serum creatinine ≤ 1.6 mg/dL or
creatinine clearance ≥ 55 mL/min` is an `or`; `ALT ≤ 3 × ULN (≤ 5 × ULN for patients with
hepatic metastases)` is an `if` whose condition is not a rule; `Hemoglobin ≥ 8 g/dL (5.0
mmol/L)` is one limit written twice (`same`). The tree is JSON-able as it stands:

    {"op": "if", "args": [{"condition": {"text": "hepatic metastases", ...}},
                          {"rule": 1}, {"rule": 0}]}

Leaves point into the criterion's own lists (`{"rule": i}` into `rules`, `{"concept": j}` into
`concepts`) or carry what they need (`condition`, `value_set`); `{"criterion": path}` names another
item of the same trial, for a parent bullet whose children combine as it says ('one of the
following').
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from critparse.model.patient import Sex
from critparse.model.rule import Analyte, Rule
from critparse.model.span import FROZEN, Span

Operator = Literal["and", "or", "not", "if", "same", "at_least"]
"""How the arguments of a node combine (see `Op`)."""

ConditionKind = Literal["sex", "age", "clinical", "treatment", "population", "region", "other"]
"""What a condition is about: a screener checks sex and age itself, the rest against records."""

__all__ = [
    "ConceptLeaf",
    "Condition",
    "ConditionKind",
    "ConditionLeaf",
    "CriterionLeaf",
    "Logic",
    "Op",
    "Operator",
    "RuleLeaf",
    "ValueSet",
    "ValueSetLeaf",
    "check_indices",
    "iter_leaves",
]


def _is_none(value: object) -> bool:
    return value is None


def _is_false(value: object) -> bool:
    return value is False


def _is_empty(value: object) -> bool:
    return value == ()


class RuleLeaf(BaseModel):
    """A threshold rule of the criterion, by its index in `rules`."""

    model_config = FROZEN

    rule: int = Field(ge=0, description="Index into the criterion's `rules`.")


class ConceptLeaf(BaseModel):
    """A concept of the criterion, by its index in `concepts` (its `negated` flag applies)."""

    model_config = FROZEN

    concept: int = Field(ge=0, description="Index into the criterion's `concepts`.")


class CriterionLeaf(BaseModel):
    """Another item of the same trial, by its path: the children of 'one of the following:'."""

    model_config = FROZEN

    criterion: str = Field(min_length=1, description="The `path` of the item, e.g. 'inclusion/3/a'.")


class Condition(BaseModel):
    """A condition that is not one of the criterion's rules: who a limit applies to.

    'hepatic metastases', 'men', 'Gilbert's syndrome', 'patients > 16 years of age', 'in Japan'.
    `text` is the condition as written without its cue word ('for patients with', 'unless'); a
    negative cue ('without', 'unless') is a `not` around the leaf, never inside it.
    """

    model_config = FROZEN

    text: str = Field(min_length=1, description="The condition as written, without its cue words.")
    span: Span = Field(description="Character offsets of `text` in the criterion.")
    kind: ConditionKind = Field(description="sex, age, clinical (a disease or finding), treatment, population, region or other.")
    concept: int | None = Field(default=None, ge=0, exclude_if=_is_none, description="Index into the criterion's `concepts` of the concept the condition names, when one was read.")
    sex: Sex | None = Field(default=None, exclude_if=_is_none, description="For kind 'sex': the sex the condition names.")
    thresholds: tuple[Rule, ...] = Field(default=(), exclude_if=_is_empty, description="Limits that define the condition (an age band: '> 16 years'), checked like rules; they are not rules of the criterion.")

    @model_validator(mode="after")
    def _consistent(self) -> Condition:
        if self.span.end - self.span.start != len(self.text):
            raise ValueError(f"condition text {self.text!r} does not fit its span")
        if (self.kind == "sex") != (self.sex is not None):
            raise ValueError("a condition names a sex exactly when its kind is 'sex'")
        return self


class ConditionLeaf(BaseModel):
    """A leaf holding a condition: `{"condition": {...}}`."""

    model_config = FROZEN

    condition: Condition


class ValueSet(BaseModel):
    """A set of ordinal categories, exactly as written: `Stage IIIA, IIIB or IV`, `NYHA class III
    or IV`, `ECOG 0, 1 or 2`, `Child-Pugh A or B`.

    A patient's category is in the set when it is listed or is a sub-category of a listed one
    (IIIB is in 'III or IV'); a category coarser than the set ('III' against 'IIIA or IIIB') is
    unknown.
    """

    model_config = FROZEN

    analyte: Analyte = Field(description="The scale the categories belong to.")
    values: tuple[str, ...] = Field(min_length=1, description="The categories, normalised: roman numerals upper case with their sub-stage ('IIIA'), letters upper case ('A'), numbers as written ('0', '0.5').")
    text: str = Field(description="The list as written.")
    span: Span = Field(description="Character offsets of `text` in the criterion.")
    rules: tuple[int, ...] = Field(default=(), exclude_if=_is_empty, description="Indices of the flat `rules` that approximate the set as bounds (kept for simple consumers; the set replaces them in the tree).")


class ValueSetLeaf(BaseModel):
    """A leaf holding a value set: `{"value_set": {...}}`."""

    model_config = FROZEN

    value_set: ValueSet


class Op(BaseModel):
    """An operator node.

    - `and`, `or`: as usual (two or more arguments). `enumeration` marks a list written as a list
      ('ANC ≥ 1500, platelets ≥ 100,000', 'AST/ALT ≤ 3 × ULN'): every item must hold in an
      inclusion criterion, and any one item excludes in an exclusion criterion, as protocols mean it.
    - `not`: one argument.
    - `if`: `[condition, then]` or `[condition, then, otherwise]`; without an otherwise-branch the
      criterion does not apply when the condition is false (an inclusion is satisfied, an exclusion
      does not exclude).
    - `same`: one limit restated in other units ('≥ 8 g/dL (5.0 mmol/L)'); evaluated on whichever
      form the patient's data can be compared with, never as several conditions.
    - `at_least`: at least `n` of the arguments ('at least two of the following').
    """

    model_config = FROZEN

    op: Operator
    args: tuple[Logic, ...] = Field(min_length=1)
    n: int | None = Field(default=None, ge=1, exclude_if=_is_none, description="For `at_least`: how many arguments must hold.")
    enumeration: bool = Field(default=False, exclude_if=_is_false, description="For `and`: a list of items, read item by item (see the class docs).")

    @model_validator(mode="after")
    def _arity(self) -> Op:
        count = len(self.args)
        if self.op == "not" and count != 1:
            raise ValueError("'not' takes exactly one argument")
        if self.op == "if" and count not in (2, 3):
            raise ValueError("'if' takes [condition, then] or [condition, then, otherwise]")
        if self.op in ("and", "or", "same") and count < 2:
            raise ValueError(f"'{self.op}' takes two or more arguments")
        if (self.op == "at_least") != (self.n is not None):
            raise ValueError("'n' is given exactly for 'at_least'")
        if self.n is not None and self.n > count:
            raise ValueError(f"'at_least' {self.n} of only {count} arguments")
        if self.enumeration and self.op != "and":
            raise ValueError("only an 'and' can be an enumeration")
        return self


Logic = Op | RuleLeaf | ConceptLeaf | ConditionLeaf | ValueSetLeaf | CriterionLeaf
"""An expression tree over a criterion's atoms."""

Op.model_rebuild()


def iter_leaves(node: Logic) -> Iterator[Logic]:
    """Every leaf of a tree, left to right (conditions inside `if` included).

    An explicit stack, not nested generators: every result's tree is walked when it is
    validated, and a generator per level costs more than the check itself.
    """
    leaves: list[Logic] = []
    stack: list[Logic] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Op):
            stack.extend(reversed(item.args))
        else:
            leaves.append(item)
    return iter(leaves)


def check_indices(node: Logic | None, rules: int, concepts: int) -> None:
    """Raise ValueError when a leaf points outside the criterion's rules or concepts."""
    if node is None:
        return
    for leaf in iter_leaves(node):
        if isinstance(leaf, RuleLeaf) and leaf.rule >= rules:
            raise ValueError(f"logic names rule {leaf.rule}, but there are {rules} rules")
        if isinstance(leaf, ConceptLeaf) and leaf.concept >= concepts:
            raise ValueError(f"logic names concept {leaf.concept}, but there are {concepts} concepts")
        if isinstance(leaf, ValueSetLeaf) and any(i >= rules for i in leaf.value_set.rules):
            raise ValueError(f"a value set names rules {leaf.value_set.rules}, but there are {rules} rules")
        named = leaf.condition.concept if isinstance(leaf, ConditionLeaf) else None
        if named is not None and named >= concepts:
            raise ValueError(f"a condition names concept {named}, but there are {concepts} concepts")
