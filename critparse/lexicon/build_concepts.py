"""Build the concept vocabulary `critparse/resources/concepts/terms.jsonl.gz` from open sources.

    python -m critparse.lexicon.build_concepts --vocab /work/shared/vocab [--out DIR]

Inputs (see the vocabulary folder's README): Disease Ontology OBO subsets (CC0), MONDO SSSOM
exact-match tables (CC0), Clinical-Trial-Parser labelled eligibility spans (Apache-2.0), the drug
dictionary of the `drug-named-entity-recognition` wheel (MIT; DrugBank CC0 and MeSH entries only)
and the hand-curated `curated.jsonl`. The filters and source credits are data in
`build_rules.json`. The output is deterministic: the same inputs give the same bytes.
Only codes are taken from SNOMED CT, ICD-10-CM and UMLS cross-references, never their names.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import importlib.util
import io
import json
import pickle
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from critparse.lexicon.concepts import (
    INDEX_FILE,
    ConceptEntry,
    file_sha256,
    key_variants,
    normalise_term,
    read_concept_file,
    term_words,
    write_index,
)
from critparse.lexicon.concepts import (
    build_index as build_matcher_index,
)

OUT_DEFAULT = Path(__file__).resolve().parent.parent / "resources" / "concepts"

DOID = "http://purl.obolibrary.org/obo/doid.owl"
MONDO = "http://purl.obolibrary.org/obo/mondo.owl"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
MESH = "http://id.nlm.nih.gov/mesh"
DRUG_PICKLE = "drug_ner_dictionary.pkl.bz2"
UMLS = "http://www.nlm.nih.gov/research/umls"
DRUGBANK = "http://www.drugbank.ca"
SYSTEM_ORDER = (DOID, MONDO, SNOMED, ICD10CM, NCIT, MESH, UMLS, DRUGBANK)
# Systems whose names may not be shipped (licensed) or are not needed: codes only.
CODE_ONLY = frozenset({SNOMED, ICD10CM, UMLS})

# Cross-reference prefixes (DOID xrefs, MONDO SSSOM object ids) -> (system, code transform).
XREF_SYSTEMS = {
    "NCI": NCIT,
    "NCIT": NCIT,
    "ICD10CM": ICD10CM,
    "MESH": MESH,
    "mesh": MESH,
    "UMLS_CUI": UMLS,
    "UMLS": UMLS,
    "SCTID": SNOMED,
}


_ICD10CM_CODE = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")


@dataclass
class Draft:
    """A concept while it is assembled; `ConceptEntry` validates it at the end."""

    id: str
    type: str
    name: str
    synonyms: list[str] = field(default_factory=list)
    case_sensitive: list[str] = field(default_factory=list)
    codes: dict[tuple[str, str], str | None] = field(default_factory=dict)
    curated: bool = False
    hand: set[str] = field(default_factory=set)
    """The surface forms written in curated.jsonl: kept unfiltered, and owned by this concept."""

    def add_code(self, system: str, code: str, display: str | None = None) -> None:
        if system == ICD10CM and not _ICD10CM_CODE.fullmatch(code):
            return  # a range such as "B20-B20" or "O00-O08" is not a code
        display = None if system in CODE_ONLY else display
        if self.codes.get((system, code)) is None:
            self.codes[(system, code)] = display


# --------------------------------------------------------------------------- Disease Ontology


def _obo_terms(text: str) -> Iterator[dict[str, list[str]]]:
    """The `[Term]` stanzas of an OBO file as tag -> values."""
    for stanza in text.split("\n\n"):
        lines = stanza.strip().splitlines()
        if not lines or lines[0] != "[Term]":
            continue
        tags: dict[str, list[str]] = defaultdict(list)
        for line in lines[1:]:
            tag, _, value = line.partition(": ")
            tags[tag].append(value)
        yield tags


_OBO_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)" (EXACT|RELATED|NARROW|BROAD)\b')


def _xref_code(xref: str) -> tuple[str, str] | None:
    """`NCI:C3088`, `SNOMEDCT_US_2025_09_01:39000009` ... -> (system, code); None if not kept."""
    prefix, _, code = xref.split(" ")[0].partition(":")
    if prefix.startswith("SNOMEDCT_US"):
        return SNOMED, code
    system = XREF_SYSTEMS.get(prefix)
    return (system, code) if system and code else None


def read_doid(folder: Path) -> dict[str, Draft]:
    """Every non-obsolete term of every DOID subset, with EXACT/RELATED synonyms and xref codes."""
    drafts: dict[str, Draft] = {}
    for path in sorted(folder.glob("*.obo")):
        for tags in _obo_terms(path.read_text("utf-8")):
            if tags.get("is_obsolete") == ["true"] or not tags.get("name"):
                continue
            term_id, name = tags["id"][0], tags["name"][0]
            draft = drafts.setdefault(term_id, Draft(term_id, "condition", name))
            draft.add_code(DOID, term_id, name)
            for value in tags.get("synonym", []):
                found = _OBO_SYNONYM.match(value)
                if found and found.group(2) in ("EXACT", "RELATED"):
                    draft.synonyms.append(found.group(1).replace('\\"', '"'))
            for xref in tags.get("xref", []):
                code = _xref_code(xref)
                if code:
                    draft.add_code(*code)
    return drafts


# --------------------------------------------------------------------------- MONDO


def _sssom_rows(path: Path) -> Iterator[dict[str, str]]:
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
    yield from csv.DictReader(lines, delimiter="\t")


def read_mondo(folder: Path) -> dict[str, dict[str, Any]]:
    """MONDO id -> {"label", "doid": {id: label}, "codes": [(system, code, display)]}."""
    mondo: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("mondo_exactmatch_*.sssom.tsv")):
        for row in _sssom_rows(path):
            item = mondo.setdefault(
                row["subject_id"], {"label": row["subject_label"], "doid": {}, "codes": []}
            )
            prefix, _, code = row["object_id"].partition(":")
            if prefix == "DOID":
                item["doid"][row["object_id"]] = row.get("object_label") or None
            elif prefix in XREF_SYSTEMS and code:
                item["codes"].append((XREF_SYSTEMS[prefix], code, row.get("object_label") or None))
    return mondo


def merge_mondo(drafts: dict[str, Draft], mondo: dict[str, dict[str, Any]]) -> None:
    """Attach each MONDO disease to its DOID concept, or make it a concept of its own."""
    for mondo_id in sorted(mondo):
        item = mondo[mondo_id]
        targets = []
        for doid_id, doid_label in sorted(item["doid"].items()):
            if doid_id not in drafts and doid_label:
                drafts[doid_id] = Draft(doid_id, "condition", doid_label)
                drafts[doid_id].add_code(DOID, doid_id, doid_label)
            if doid_id in drafts:
                targets.append(drafts[doid_id])
        if not targets:
            targets = [drafts.setdefault(mondo_id, Draft(mondo_id, "condition", item["label"]))]
        for draft in targets:
            draft.add_code(MONDO, mondo_id, item["label"])
            draft.synonyms.append(item["label"])
            for system, code, display in item["codes"]:
                draft.add_code(system, code, display if system == NCIT else None)


# --------------------------------------------------------------------------- drugs


def _drug_pickle(source: Path) -> dict[str, Any]:
    """The package's dictionary, from its wheel or from the `.pkl.bz2` file itself."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as archive:
            name = next(n for n in archive.namelist() if n.endswith(DRUG_PICKLE))
            raw = archive.read(name)
    else:
        raw = source.read_bytes()
    # A pinned, inspected input of this build script (never read by the library at run time).
    return pickle.loads(bz2.decompress(raw))


def _drug_type(data: dict[str, Any], rules: dict[str, Any]) -> str:
    trees = data.get("mesh_tree") or []
    if any(t.startswith(tuple(rules["vaccine_mesh_trees"])) for t in trees):
        return "immunization"
    return "immunization" if "vaccine" in data.get("name", "").lower() else "drug"


def _is_drug(data: dict[str, Any], rules: dict[str, Any]) -> bool:
    """DrugBank entries, and MeSH-only ones under a drug branch (not enzymes, receptors...)."""
    if data.get("drugbank_id"):
        return True
    trees = data.get("mesh_tree") or []
    return bool(data.get("mesh_id")) and any(
        t.startswith(tuple(rules["mesh_only_drug_trees"])) for t in trees
    )


def read_drugs(wheel: Path, rules: dict[str, Any]) -> dict[str, Draft]:
    """DrugBank- or MeSH-identified drugs; pooled synonyms only where no other source fed them."""
    book = _drug_pickle(wheel)
    variants: dict[str, list[str]] = defaultdict(list)
    for variant, canonicals in sorted(book["drug_variant_to_canonical"].items()):
        for canonical in canonicals:
            variants[canonical].append(variant)
    drafts: dict[str, Draft] = {}
    mixed = tuple(rules["drug_sources_without_synonyms"])
    for canonical, data in sorted(book["drug_canonical_to_data"].items()):
        if not data.get("name") or not _is_drug(data, rules):
            continue
        concept_id = (
            f"DrugBank:{data['drugbank_id']}"
            if data.get("drugbank_id")
            else f"MESH:{data['mesh_id']}"
        )
        draft = drafts.setdefault(
            concept_id, Draft(concept_id, _drug_type(data, rules), data["name"])
        )
        if data.get("drugbank_id"):
            draft.add_code(DRUGBANK, data["drugbank_id"], data["name"])
        if data.get("mesh_id"):
            draft.add_code(MESH, data["mesh_id"], None)
        if not any(key in data for key in mixed):
            draft.synonyms.extend(_own_synonyms(data["name"], variants.get(canonical, []), rules))
    for concept_id in rules["drop_concepts"]:
        drafts.pop(concept_id, None)
    return drafts


def _own_synonyms(name: str, synonyms: list[str], rules: dict[str, Any]) -> list[str]:
    """A single drug does not answer to a drug-class name ("antihypertensive agents"): the
    pooled dictionary sometimes files a MeSH pharmacological action under one of its members."""
    class_words = tuple(rules["drug_class_words"])
    if name.lower().endswith(class_words):
        return synonyms
    return [s for s in synonyms if not s.lower().endswith(class_words)]


# --------------------------------------------------------------------------- Clinical-Trial-Parser


_CTP_SPACING = ((" 's", "'s"), (" / ", "/"), (" - ", "-"), (" ,", ","))
_ABBREVIATION = re.compile(r"^(.*\S) \( ([a-z0-9][a-z0-9 \-]{0,9}) \)$")


def ctp_spans(path: Path, labels: Iterable[str]) -> Counter[tuple[str, str]]:
    """(label, span text) counts of the labelled eligibility lines (slots are 1-based)."""
    wanted = set(labels)
    counts: Counter[tuple[str, str]] = Counter()
    for line in path.read_text("utf-8").splitlines():
        slots, _, text = line.partition("\t")
        for slot in filter(None, slots.split(",")):
            start, end, label = slot.split(":")
            if label in wanted:
                span = text[int(start) - 1 : int(end) - 1].strip()
                for old, new in _CTP_SPACING:
                    span = span.replace(old, new)
                counts[(label, span)] += 1
    return counts


def split_abbreviation(span: str) -> tuple[str, str | None]:
    """`myelodysplastic syndrome ( mds )` -> ("myelodysplastic syndrome", "mds")."""
    found = _ABBREVIATION.match(span)
    return (found.group(1), found.group(2)) if found else (span, None)


# --------------------------------------------------------------------------- surface filters


@dataclass(frozen=True)
class Filters:
    """What `build_rules.json` says about which surface forms can stand alone in trial text."""

    drop: frozenset[str]
    stop: frozenset[str]
    short_acronyms: frozenset[str]
    allow_short: frozenset[str]
    any_case: frozenset[str]
    min_length: int
    min_drug_length: int
    max_words: int
    max_acronym: int
    drop_acronyms: frozenset[str]

    @classmethod
    def from_rules(
        cls, rules: dict[str, Any], stop_words: Iterable[str], analytes: Iterable[str]
    ) -> Filters:
        stop = frozenset(normalise_term(w) for w in stop_words)
        return cls(
            drop=frozenset(normalise_term(w) for w in (*rules["drop_terms"], *analytes)) | stop,
            stop=stop,
            short_acronyms=frozenset(rules["short_acronyms_kept"]),
            allow_short=frozenset(normalise_term(w) for w in rules["allow_short"]),
            any_case=frozenset(normalise_term(w) for w in rules["any_case_acronyms"]),
            min_length=rules["min_length"],
            min_drug_length=rules["min_drug_synonym_length"],
            max_words=rules["max_words"],
            max_acronym=rules["max_acronym_length"],
            drop_acronyms=frozenset(rules["drop_acronyms"]),
        )

    def is_acronym(self, surface: str) -> bool:
        letters = [c for c in surface if c.isalpha()]
        return (
            len(surface) <= self.max_acronym
            and len(letters) >= 2
            and all(c.isupper() for c in letters)
            and normalise_term(surface) not in self.any_case
        )

    def acronym_ok(self, surface: str) -> bool:
        size = sum(c.isalnum() for c in surface)
        return (
            (size > 3 or (size == 3 and surface in self.short_acronyms))
            and re.fullmatch(r"[A-Z0-9\-]+", surface) is not None
            and surface not in self.drop_acronyms
        )

    def plain_ok(self, key: str, is_drug: bool) -> bool:
        if key in self.allow_short:
            return True
        shortest = self.min_drug_length if is_drug else self.min_length
        return (
            len(key) >= shortest
            and key not in self.drop
            and any(c.isalpha() for c in key)
            and len(key.split()) <= self.max_words
            and not re.search(r"[()\[\],;:{}<>=|]", key)
            and not all(w in self.stop or w.isdigit() for w in key.split())
            and "obsolete" not in key.split()
        )


def clean_draft(draft: Draft, filters: Filters) -> bool:
    """Keep the surface forms that can stand alone; False when nothing matchable is left."""
    is_drug = draft.type in ("drug", "immunization")
    plain: dict[str, str] = {}
    strict: dict[str, str] = {}
    for j, surface in enumerate([draft.name, *draft.synonyms, *draft.case_sensitive]):
        surface = _uninvert(" ".join(surface.split()))
        key = normalise_term(surface)
        by_hand = surface in draft.hand
        if j > len(draft.synonyms) or filters.is_acronym(surface):
            if by_hand or filters.acronym_ok(surface):
                strict.setdefault(surface, surface)
        elif by_hand or filters.plain_ok(key, is_drug and j > 0):
            plain.setdefault(key, surface)
    if not plain:
        return False
    first_key = normalise_term(draft.name)
    if first_key not in plain:
        first_key = next(iter(plain))
        draft.name = plain[first_key]
    draft.synonyms = sorted((s for k, s in plain.items() if k != first_key), key=str.lower)
    draft.case_sensitive = sorted(s for s in strict if normalise_term(s) not in plain)
    return True


def surface_index(drafts: dict[str, Draft]) -> dict[str, list[str]]:
    """Normalised surface form (and its number variants) -> concept ids, best source first."""
    index: dict[str, list[str]] = defaultdict(list)
    for concept_id in sorted(drafts, key=_source_rank):
        draft = drafts[concept_id]
        for surface in (draft.name, *draft.synonyms):
            words = tuple(term_words(surface))
            for variant in (words, *key_variants(words)):
                key = " ".join(variant)
                if concept_id not in index[key]:
                    index[key].append(concept_id)
    return index


def _source_rank(concept_id: str) -> tuple[int, str]:
    ranks = {"CP": 0, "DOID": 1, "MONDO": 2, "DrugBank": 3, "MESH": 4}
    return ranks.get(concept_id.partition(":")[0], 5), concept_id


# --------------------------------------------------------------------------- harvesting


def _cue_type(word: str, rules: dict[str, Any]) -> str | None:
    for concept_type in ("immunization", "procedure", "drug"):
        cues = rules["treatment_cues"][concept_type]
        suffixes = tuple(c[1:] for c in cues if c.startswith("-"))
        if word in cues or (suffixes and word.endswith(suffixes)):
            return concept_type
    return None


def _ctp_type(label: str, key: str, rules: dict[str, Any]) -> str | None:
    """The concept type of an unmatched labelled span (a treatment by its head word first)."""
    if label != "treatment":
        return rules["ctp_label_types"].get(label)
    words = key.split()
    for word in (words[-1], *words[:-1]):
        found = _cue_type(word, rules)
        if found:
            return found
    return None


def _abbreviates(short: str, long: str) -> bool:
    """An abbreviation starts like its long form and takes its letters in order ("mds")."""
    letters = iter(long)
    return short[0] == long[0] and all(c in letters for c in short if c.isalnum())


def _harvestable(key: str, rules: dict[str, Any]) -> bool:
    """A span that names something on its own: no negation, hedge or coordination, and a
    single word only if it is a noun of some length ("claustrophobia", not "cardiac")."""
    words = key.split()
    if set(words) & set(rules["ctp_reject_words"]) or not words[-1].isalpha():
        return False
    if len(words) > 1:
        return True
    word = words[0]
    return (
        len(word) >= 6
        and not word.endswith(tuple(rules["ctp_adjective_endings"]))
        and word not in rules["ctp_reject_single_words"]
    )


def _head_is_known(key: str, index: dict[str, list[str]], modifiers: Iterable[str]) -> bool:
    """True when the span is a modifier plus a known concept ("uncontrolled hypertension")."""
    for modifier in modifiers:
        if key.startswith(modifier + " ") and key[len(modifier) + 1 :] in index:
            return True
    return False


def _ctp_counts(counts: Counter[tuple[str, str]]) -> dict[str, tuple[str, str, int, str | None]]:
    """Span key -> (majority label, spelling, total count, abbreviation) over every label."""
    by_key: dict[str, Counter[str]] = defaultdict(Counter)
    spelling: dict[str, Counter[str]] = defaultdict(Counter)
    abbreviation: dict[str, str] = {}
    for (label, span), n in sorted(counts.items()):
        long, short = split_abbreviation(span)
        key = normalise_term(long)
        by_key[key][label] += n
        spelling[key][long] += n
        if short:
            abbreviation.setdefault(key, short)
    return {
        key: (
            labels.most_common(1)[0][0],
            spelling[key].most_common(1)[0][0],
            sum(labels.values()),
            abbreviation.get(key),
        )
        for key, labels in by_key.items()
    }


def harvest_ctp(
    drafts: dict[str, Draft],
    counts: Counter[tuple[str, str]],
    rules: dict[str, Any],
    filters: Filters,
) -> list[str]:
    """Add labelled spans as abbreviations of known concepts or, when frequent, as new concepts."""
    index = surface_index(drafts)
    skipped = []
    for key, (label, spelling, n, short) in sorted(_ctp_counts(counts).items()):
        if "@" in key or not filters.plain_ok(key, False):
            continue
        if short and not _abbreviates(short, key):
            short = None
        variants = [" ".join(v) for v in key_variants(tuple(key.split()))]
        known = index.get(key) or next((index[v] for v in variants if v in index), None)
        if known:
            if short:
                drafts[known[0]].case_sensitive.append(short.upper())
            continue
        concept_type = _ctp_type(label, key, rules)
        if n < rules["ctp_min_count"] or _head_is_known(key, index, rules["ctp_modifiers"]):
            continue
        if not _harvestable(key, rules):
            skipped.append(f"{n}\t{label}\t{spelling}\t(not a name)")
            continue
        if concept_type is None:
            skipped.append(f"{n}\t{label}\t{spelling}")
            continue
        concept_id = "CTP:" + re.sub(r"[^a-z0-9]+", "_", key).strip("_")
        draft = drafts.setdefault(concept_id, Draft(concept_id, concept_type, spelling))
        if short:
            draft.case_sensitive.append(short.upper())
    return skipped


def _uninvert(heading: str) -> str:
    """Inverted headings read as written: "Angina, Unstable" -> "Unstable Angina".

    Only a single comma before one or two words counts ("Antibodies, Monoclonal"), so a list
    or a qualifier with more words is left alone (and then dropped for its comma).
    """
    head, sep, rest = heading.partition(", ")
    if not sep or not re.fullmatch(r"[A-Za-z][\w\-]*(?: [\w\-]+)?", rest):
        return heading
    return (
        f"{rest} {head}" if rest[0].isupper() == heading[0].isupper() else f"{rest.lower()} {head}"
    )


def harvest_custom_mesh(drafts: dict[str, Draft], folder: Path, span_keys: set[str]) -> None:
    """Clinical-Trial-Parser's extra MeSH synonyms, kept only when annotators also marked them."""
    index = surface_index(drafts)
    for path in sorted(folder.glob("custom_mesh_concepts_p*.tsv")):
        for row in csv.reader(path.read_text("utf-8").splitlines(), delimiter="\t"):
            if len(row) < 2:
                continue
            target = index.get(normalise_term(_uninvert(row[0]))) or index.get(
                normalise_term(row[0])
            )
            key = normalise_term(row[1])
            if target and key in span_keys and " and " not in key and " or " not in key:
                drafts[target[0]].synonyms.append(row[1])


def merge_curated(drafts: dict[str, Draft], entries: list[ConceptEntry]) -> None:
    """Hand-curated entries win: new concepts, or names, types, synonyms and codes for known ones."""
    for entry in entries:
        draft = drafts.get(entry.id)
        if draft is None:
            draft = drafts[entry.id] = Draft(entry.id, entry.type, entry.name)
        draft.curated, draft.type, draft.name = True, entry.type, entry.name
        draft.hand = {entry.name, *entry.synonyms, *entry.case_sensitive}
        draft.synonyms = [*entry.synonyms, *draft.synonyms]
        draft.case_sensitive = [*entry.case_sensitive, *draft.case_sensitive]
        old = draft.codes
        draft.codes = {}
        for curated_code in entry.codes:
            draft.add_code(curated_code.system, curated_code.code, curated_code.display)
        for (system, code), display in old.items():
            draft.add_code(system, code, display)


def claim_curated(drafts: dict[str, Draft]) -> list[str]:
    """A hand-curated surface form belongs to its concept alone: other concepts lose it.

    A harvested concept whose very name is claimed is a duplicate and goes; an ontology
    concept keeps its own name (and is reported, to be merged by hand in curated.jsonl).
    """
    owner: dict[str, str] = {}
    for concept_id, draft in sorted(drafts.items()):
        for surface in sorted(draft.hand):
            owner.setdefault(normalise_term(surface), concept_id)
    conflicts = []
    for concept_id in sorted(drafts):
        draft = drafts[concept_id]
        name_owner = owner.get(normalise_term(draft.name), concept_id)
        if name_owner != concept_id and not draft.curated:
            if concept_id.startswith("CTP:"):
                del drafts[concept_id]
                continue
            conflicts.append(f"{concept_id} ({draft.name}) is also a curated form of {name_owner}")
        draft.synonyms = [
            s for s in draft.synonyms if owner.get(normalise_term(s), concept_id) == concept_id
        ]
        draft.case_sensitive = [
            s
            for s in draft.case_sensitive
            if owner.get(normalise_term(s), concept_id) == concept_id
        ]
    return conflicts


def _drop_synonyms(drafts: dict[str, Draft], unwanted: dict[str, list[str]]) -> None:
    """Forms an ontology gives a concept that belong to another ("insulin resistance" for T2DM)."""
    for concept_id, forms in unwanted.items():
        draft = drafts.get(concept_id)
        if draft is not None:
            gone = {normalise_term(f) for f in forms}
            draft.synonyms = [s for s in draft.synonyms if normalise_term(s) not in gone]
            draft.case_sensitive = [
                s for s in draft.case_sensitive if normalise_term(s) not in gone
            ]


def _type_by_name(drafts: dict[str, Draft], rules: dict[str, Any]) -> None:
    """Ontology diseases whose name says allergy are allergies, not generic conditions."""
    cues = tuple(rules["allergy_name_cues"])
    for draft in drafts.values():
        if (
            draft.type == "condition"
            and not draft.curated
            and any(c in draft.name.lower() for c in cues)
        ):
            draft.type = "allergy"


# --------------------------------------------------------------------------- output


def to_entry(draft: Draft) -> ConceptEntry:
    """Validate a finished draft; codes best system first, then by code."""
    order = {system: i for i, system in enumerate(SYSTEM_ORDER)}
    codes = sorted(draft.codes.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1]))
    return ConceptEntry(
        id=draft.id,
        type=draft.type,  # type: ignore[arg-type]
        name=draft.name,
        synonyms=draft.synonyms,
        case_sensitive=draft.case_sensitive,
        codes=[{"system": s, "code": c, "display": d} for (s, c), d in codes],  # type: ignore[misc]
    )


def _entry_line(entry: ConceptEntry) -> str:
    data = entry.model_dump()
    if not data["case_sensitive"]:
        del data["case_sensitive"]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def write_terms(entries: list[ConceptEntry], out: Path, gzip_over: int) -> Path:
    """One JSON line per concept; gzip-compressed (reproducibly) when larger than `gzip_over`."""
    text = "".join(_entry_line(e) + "\n" for e in entries).encode("utf-8")
    for old in ("terms.jsonl", "terms.jsonl.gz"):
        (out / old).unlink(missing_ok=True)
    if len(text) <= gzip_over:
        (out / "terms.jsonl").write_bytes(text)
        return out / "terms.jsonl"
    buffer = io.BytesIO()
    with gzip.GzipFile(
        filename="terms.jsonl", mode="wb", fileobj=buffer, mtime=0, compresslevel=9
    ) as f:
        f.write(text)
    (out / "terms.jsonl.gz").write_bytes(buffer.getvalue())
    return out / "terms.jsonl.gz"


def write_notice(rules: dict[str, Any], out: Path) -> None:
    """NOTICE: every source the vocabulary derives from, its version, licence and what was taken."""
    lines = [rules["notice_header"], ""]
    for source in rules["sources"]:
        lines += [
            f"* {source['name']}",
            f"  Source:  {source['repository']} @ {source['version']}",
            f"  Licence: {source['licence']}",
            f"  Taken:   {source['taken']}",
            "",
        ]
    (out / "NOTICE").write_text("\n".join(lines), encoding="utf-8")


def count_types(entries: list[ConceptEntry]) -> dict[str, int]:
    return dict(sorted(Counter(e.type for e in entries).items()))


# --------------------------------------------------------------------------- driver


def _analyte_names() -> set[str]:
    """Lab and vital-sign names from the analyte lexicon: the threshold parser's, not concepts."""
    data = json.loads((OUT_DEFAULT.parent / "analytes.json").read_text("utf-8"))
    return {s for a in data["analytes"] for s in (a["name"], *a["synonyms"], *a["abbreviations"])}


def _stop_words() -> set[str]:
    """spaCy's English stop words: never a concept on their own ("all", "can", "men"...)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return set(STOP_WORDS)


def build(vocab: Path, out: Path, wheel: Path) -> tuple[list[ConceptEntry], list[str]]:
    """Read every source, merge, filter and return the entries plus unplaced frequent spans."""
    rules = json.loads((out / "build_rules.json").read_text("utf-8"))
    filters = Filters.from_rules(rules, _stop_words(), _analyte_names())
    drafts = read_doid(vocab / "doid")
    merge_mondo(drafts, read_mondo(vocab / "mondo"))
    _type_by_name(drafts, rules)
    for concept_id, draft in read_drugs(wheel, rules).items():
        drafts.setdefault(concept_id, draft)
    merge_curated(drafts, read_concept_file(out / "curated.jsonl"))
    drafts = {
        k: d for k, d in drafts.items() if normalise_term(d.name) not in filters.drop or d.curated
    }
    _drop_synonyms(drafts, rules["drop_synonyms"])
    drafts = {k: d for k, d in drafts.items() if clean_draft(d, filters)}
    counts = ctp_spans(vocab / "ctp" / "test_processed_medical_ner.tsv", rules["ctp_labels"])
    skipped = harvest_ctp(drafts, counts, rules, filters)
    span_keys = {normalise_term(split_abbreviation(span)[0]) for _, span in counts}
    harvest_custom_mesh(drafts, vocab / "ctp", span_keys)
    drafts = {k: d for k, d in drafts.items() if clean_draft(d, filters)}
    skipped += claim_curated(drafts)
    return [to_entry(drafts[k]) for k in sorted(drafts)], skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=Path, required=True, help="the open vocabulary folder")
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT, help="resource folder to write")
    parser.add_argument(
        "--drug-wheel", type=Path, default=None, help="drug-named-entity-recognition wheel"
    )
    parser.add_argument(
        "--report", type=Path, default=None, help="write unplaced frequent spans here"
    )
    args = parser.parse_args(argv)
    wheel = args.drug_wheel or _find_wheel(args.vocab)
    entries, skipped = build(args.vocab, args.out, wheel)
    rules = json.loads((args.out / "build_rules.json").read_text("utf-8"))
    path = write_terms(entries, args.out, rules["gzip_over_bytes"])
    write_index(build_matcher_index(entries, file_sha256(path)), args.out / INDEX_FILE)
    write_notice(rules, args.out)
    if args.report:
        args.report.write_text("\n".join(skipped) + "\n", encoding="utf-8")
    print(f"{path}: {len(entries)} concepts, {path.stat().st_size} bytes")
    print(json.dumps(count_types(entries)))
    return 0


def _find_wheel(vocab: Path) -> Path:
    """The drug dictionary: a wheel beside the vocabulary, in /tmp/dner, or the installed package."""
    pattern = "drug_named_entity_recognition-*.whl"
    for folder in (vocab / "drugs", vocab, Path("/tmp/dner")):
        found = sorted(folder.glob(pattern))
        if found:
            return found[-1]
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec and spec.origin and (Path(spec.origin).parent / DRUG_PICKLE).is_file():
        return Path(spec.origin).parent / DRUG_PICKLE
    raise SystemExit(
        f"no {pattern} found; `pip download drug-named-entity-recognition==2.0.9 --no-deps -d DIR` "
        "and pass --drug-wheel DIR/<wheel>"
    )


if __name__ == "__main__":
    raise SystemExit(main())
