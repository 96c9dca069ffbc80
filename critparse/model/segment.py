"""One item of a split eligibility block, as `critparse.text.segment` returns it.

A pydantic model of its own module, so that the segmenter itself can be compiled (mypyc builds
no pydantic classes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from critparse.model.span import FROZEN, Section, Span

ItemKind = Literal["criterion", "header", "paragraph"]


class Segment(BaseModel):
    """One item of an eligibility block: a heading, a free paragraph or a criterion bullet."""

    model_config = FROZEN

    kind: ItemKind
    section: Section
    path: str = Field(description="Where it sits, e.g. 'inclusion/3/b'.")
    span: Span = Field(description="Offsets into the eligibility text, marker excluded.")
    text: str
    parent_text: str | None = None
    parent_path: str | None = None
    depth: int = Field(default=0, description="0 for section headings, 1 for top-level items.")
    marker: str | None = Field(default=None, description="The bullet marker as written.")

    @property
    def needs_parse(self) -> bool:
        """Criteria and paragraphs may hold thresholds; headings do not."""
        return self.kind != "header"
