"""Fixtures of the review-page tests: the seed trial parsed once, and a 50-trial registry file
generated from the studies in tests/trials (ids varied), so no large file is committed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

TRIALS = Path(__file__).resolve().parents[1] / "trials"
SEED = TRIALS / "NCT02186860.json"

SEED_PATIENT = {
    "id": "P-001",
    "age": 42,
    "creatinine": "150 umol/L",
    "AST": {"value": 100, "unit": "U/L", "uln": 30},
    "alt": "50 U/L",
    "bilirubin": "1.0 mg/dL",
    "karnofsky": 70,
}


def write_trials_jsonl(path: Path, count: int = 50) -> list[str]:
    """`count` API v2 studies, one per line, cycling through tests/trials/*.json with new ids."""
    studies = [json.loads(p.read_text("utf-8")) for p in sorted(TRIALS.glob("*.json"))]
    ids = []
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            study = copy.deepcopy(studies[i % len(studies)])
            nct = f"NCT9{i:07d}"
            study["protocolSection"].setdefault("identificationModule", {})["nctId"] = nct
            out.write(json.dumps(study) + "\n")
            ids.append(nct)
    return ids


@pytest.fixture(scope="session")
def seed_trials():
    """The seed trial through the whole-trial run, as the report command reads it."""
    from critparse.runs.batch import iter_trials
    from critparse.runs.registry import read_studies

    return list(iter_trials(read_studies(SEED)))


@pytest.fixture(scope="session")
def fifty_trials_file(tmp_path_factory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("registry") / "fifty.jsonl"
    return path, write_trials_jsonl(path, 50)


@pytest.fixture(scope="session")
def fifty_trials(fifty_trials_file):
    """The 50 trials parsed once, for every test that draws them."""
    from critparse.runs.batch import iter_trials
    from critparse.runs.registry import read_studies

    return list(iter_trials(read_studies(fifty_trials_file[0])))


@pytest.fixture(scope="session")
def report_tools():
    """Labels, vocabulary and ConText rules loaded once for the whole module."""
    from critparse.export.report import make_tools

    return make_tools()


# --- a small DOM, enough to assert on the page (stdlib html.parser) --------------------------

from html.parser import HTMLParser  # noqa: E402

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "param"}


class El:
    """An element: tag, attributes and children (elements and strings)."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: El | None = None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[El | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, El):
                yield c
                yield from c.iter()

    def select(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[El]:
        return [e for e in self.iter()
                if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
                and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, ident: str) -> El | None:
        return next((e for e in self.iter() if e.attrs.get("id") == ident), None)


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = El("#document", {})
        self.here = self.root

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        el = El(tag, {k: v or "" for k, v in attrs}, self.here)
        self.here.children.append(el)
        if tag not in VOID:
            self.here = el

    def handle_startendtag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.here.children.append(El(tag, {k: v or "" for k, v in attrs}, self.here))

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        node = self.here
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.here = node.parent

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        self.here.children.append(data)


def parse_html(html: str) -> El:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def rule_highlight_text(crit: El, index: int) -> str:
    """The text of every piece of rule `index`'s highlight in one criterion (not in its children)."""
    own = [e for e in crit.select(cls="m-rule")
           if str(index) in e.attrs.get("data-rule", "").split() and _owner(e) is crit]
    return "".join(e.text() for e in own if not _inside_same_rule(e, index))


def _owner(el: El) -> El | None:
    node = el.parent
    while node is not None and "crit" not in node.classes:
        node = node.parent
    return node


def _inside_same_rule(el: El, index: int) -> bool:
    node = el.parent
    while node is not None and "crit" not in node.classes:
        if "m-rule" in node.classes and str(index) in node.attrs.get("data-rule", "").split():
            return True
        node = node.parent
    return False


def external_references(html: str) -> list[str]:
    """src/href/url()/@import values that would fetch something: anything but '#...' and data:."""
    import re

    found = re.findall(r"""(?:src|href|action|poster|srcset)\s*=\s*["']?([^"'\s>]+)""", html, re.I)
    found += re.findall(r"""url\(\s*["']?([^"')]+)""", html, re.I)
    found += re.findall(r"""@import\s+["']?([^"';\s]+)""", html, re.I)
    return [u for u in found if not u.startswith("#") and not u.startswith("data:")]


@pytest.fixture(scope="session")
def dom():
    """The helpers above, for the test modules (conftest modules are not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(parse=parse_html, rule_text=rule_highlight_text,
                           external=external_references, write_trials=write_trials_jsonl,
                           patient=SEED_PATIENT, seed=SEED)
