"""The flat criterion row: one definition for JSONL rows, the Arrow schema and the Dask meta.

A `Criterion` becomes one row of a table: its span as two integers, its rules and diagnostics
as lists of flat structs (Parquet) or as JSON text (dataframes). The columns are declared once
in `CRITERION_COLUMNS`; `criterion_row`, `arrow_schema` and `dataframe_meta` are all read off
that declaration, so a new field is one line here and reaches every writer at once.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NamedTuple

from critparse.model import Criterion

ScalarType = Literal["string", "int", "float", "bool"]


class Column(NamedTuple):
    """One column: its name, the dotted attribute it is read from, and its type.

    `items` makes the column a list of structs: `source` names a sequence attribute and each
    element becomes one struct with the `items` columns.
    """

    name: str
    source: str
    type: ScalarType | Literal["list"]
    items: tuple[Column, ...] = ()


RULE_COLUMNS: tuple[Column, ...] = (
    Column("analyte_text", "analyte.text", "string"),
    Column("analyte", "analyte.name", "string"),
    Column("code", "analyte.code", "string"),
    Column("system", "analyte.system", "string"),
    Column("in_lexicon", "analyte.in_lexicon", "bool"),
    Column("comparator", "comparator", "string"),
    Column("value", "value", "float"),
    Column("unit", "unit", "string"),
    Column("unit_text", "unit_text", "string"),
    Column("span_start", "span.start", "int"),
    Column("span_end", "span.end", "int"),
    Column("text", "text", "string"),
)

DIAGNOSTIC_COLUMNS: tuple[Column, ...] = (
    Column("level", "level", "string"),
    Column("code", "code", "string"),
    Column("message", "message", "string"),
)

CRITERION_COLUMNS: tuple[Column, ...] = (
    Column("trial_id", "trial_id", "string"),
    Column("kind", "kind", "string"),
    Column("section", "section", "string"),
    Column("path", "path", "string"),
    Column("span_start", "span.start", "int"),
    Column("span_end", "span.end", "int"),
    Column("text", "text", "string"),
    Column("parent_text", "parent_text", "string"),
    Column("rules", "rules", "list", RULE_COLUMNS),
    Column("no_threshold_reason", "no_threshold_reason", "string"),
    Column("diagnostics", "diagnostics", "list", DIAGNOSTIC_COLUMNS),
)
"""The columns of a criterion row, in order."""


def _read(obj: Any, source: str) -> Any:
    """`obj.a.b` for source "a.b"; None as soon as a step is None (a criterion without span)."""
    for name in source.split("."):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def _row(obj: Any, columns: tuple[Column, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in columns:
        value = _read(obj, column.source)
        if column.type == "list":
            value = [_row(item, column.items) for item in (value or ())]
        row[column.name] = value
    return row


def criterion_row(criterion: Criterion) -> dict[str, Any]:
    """A flat row for tables (Parquet, dataframes): spans as two integers, rules nested."""
    return _row(criterion, CRITERION_COLUMNS)


def json_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its list columns as JSON text, so it fits a flat dataframe."""
    return {c.name: json.dumps(row[c.name]) if c.type == "list" else row[c.name]
            for c in CRITERION_COLUMNS}


def _arrow_type(column: Column) -> Any:
    import pyarrow as pa

    scalars = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
    if column.type == "list":
        return pa.list_(pa.struct([(c.name, _arrow_type(c)) for c in column.items]))
    return scalars[column.type]


def arrow_schema() -> Any:
    """The Parquet schema of `criterion_row` (pyarrow imported only when asked for)."""
    import pyarrow as pa

    return pa.schema([(c.name, _arrow_type(c)) for c in CRITERION_COLUMNS])


# Pandas extension types: nullable integers and strings keep their type when a value is
# missing, so Parquet written from a dataframe has the same column types as a local run.
_PANDAS_TYPES: dict[str, str] = {"string": "string", "int": "Int64", "float": "Float64",
                                 "bool": "boolean", "list": "string"}


def dataframe_meta() -> dict[str, str]:
    """Column name -> pandas dtype of a dataframe of `json_row`s (the Dask `meta`)."""
    return {c.name: _PANDAS_TYPES[c.type] for c in CRITERION_COLUMNS}


CRITERION_META: dict[str, str] = dataframe_meta()
"""`criteria_rows(...).to_dataframe(meta=CRITERION_META)`: list columns as JSON text."""


__all__ = [
    "CRITERION_COLUMNS",
    "CRITERION_META",
    "DIAGNOSTIC_COLUMNS",
    "RULE_COLUMNS",
    "Column",
    "arrow_schema",
    "criterion_row",
    "dataframe_meta",
    "json_row",
]
