"""Screen travellers against the registry with the linkage engine; hits are candidates.

The registry is read exactly as `cvis link` reads it (`cvis.linkage.mapping`), each
traveller becomes one canonical person record, and pairs are scored by a Splink model
from `cvis.linkage` (comparisons, name forms, term-frequency adjustment). The model for
travellers is trained once per registry layout on the registry itself and saved
versioned under ``$CVIS_HOME/screening/models`` (reused so scores stay comparable).

Names alone never make a candidate: where both sides carry a date of birth, a pair is
proposed only if the dates agree (exactly, day/month swapped, or within a typo), and where
both carry a nationality or a travel document those must not speak against the pair
(`cvis.foreign.identity`), so a traveller who merely shares a common name with a
registrant is not proposed. The registry's travel document numbers (a ``passport_number``
column, say) find the registrant whatever the manifest made of the name: a
transliteration is still the same passport.
Nothing here decides that a traveller is covered; an analyst does (`determination`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cvis.foreign import identity
from cvis.foreign.manifest import Manifest, Traveller
from cvis.linkage import features, matching, model
from cvis.linkage.engines import Engine
from cvis.linkage.mapping import SourceTable, load_mapping, load_source

log = logging.getLogger(__name__)

MODEL_NAME = "travellers"
DEFAULT_THRESHOLD = 0.5
LEAD_TIME_HOURS = 48  # the registry is checked at least this long before departure
TRAINING_SAMPLE = 20_000
MIN_TRAINING_ROWS = 3_000
STRANGER = "stranger:"  # ids of the synthetic people that pad a small registry
DOCUMENT_PROBABILITY = 0.99  # the same travel document number (nationality not against it)


@dataclass(frozen=True)
class Candidate:
    """A registrant the traveller may be, with the evidence for it."""

    registry_id: str
    match_probability: float
    match_weight: float
    agreement: str

    def contract(self) -> dict[str, object]:
        return {"registry_id": self.registry_id,
                "match_probability": round(self.match_probability, 6)}


@dataclass
class Screened:
    traveller: Traveller
    candidates: list[Candidate] = field(default_factory=list)
    hours_before_departure: float = 0.0

    @property
    def in_time(self) -> bool:
        return self.hours_before_departure >= LEAD_TIME_HOURS

    def contract(self) -> dict[str, object]:
        """The JSON line of `cvis travel screen` (design.md)."""
        return {
            "traveller": self.traveller.fields,
            "departure_at": self.traveller.departure_at.isoformat(),
            "destination": self.traveller.destination,
            "candidates": [c.contract() for c in self.candidates],
        }


@dataclass(frozen=True)
class ScreeningSetup:
    registry: Path
    registry_mapping: Path | None
    models: Path
    threshold: float = DEFAULT_THRESHOLD
    engine: str = "duckdb"


def traveller_frame(travellers: list[Traveller]) -> pd.DataFrame:
    """Travellers as canonical person records (ids T1, T2, ... in manifest order)."""
    def value(t: Traveller, key: str) -> str | None:
        return t.fields.get(key) or None

    return pd.DataFrame({
        "id": [f"T{i + 1}" for i in range(len(travellers))],
        "given_names": [value(t, "given_names") for t in travellers],
        "family_name": [value(t, "family_name") for t in travellers],
        "dob": [value(t, "dob") for t in travellers],
        "sex": [value(t, "sex") for t in travellers],
        "nationality": [value(t, "nationality") for t in travellers],
        "passport_number": [value(t, "passport_number") for t in travellers],
    }, dtype=object)


def _model_for(engine: Engine, setup: ScreeningSetup, registry: SourceTable,
               fields: list[str]) -> model.ModelRef:
    ref = model.latest(setup.models, MODEL_NAME, engine.name)
    if ref is not None and list(ref.fields) == fields:
        return ref
    log.info("training the traveller model on the registry (fields %s)", fields)
    left = features.splink_input(registry.frame, fields)
    sample = registry.frame.sample(n=min(len(registry.frame), TRAINING_SAMPLE), random_state=7)
    right = features.splink_input(_with_strangers(sample, fields), fields, side="i")
    trained = model.train(engine, left, right, fields)
    return model.save(setup.models, MODEL_NAME, engine.name, trained, fields)


def _with_strangers(sample: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
    """Pad a small registry with synthetic strangers (Faker) for training: random pairs of
    a registry with itself would be mostly the same person, and the u-probabilities (how
    often fields agree by chance) would be wildly wrong."""
    missing = MIN_TRAINING_ROWS - len(sample)
    if missing <= 0:
        return sample
    from cvis.linkage import synthetic

    strangers = synthetic.generate(missing, 1, matched_share=0.0, seed=29).registry
    strangers = strangers.assign(id=STRANGER + strangers["id"].astype(str))
    columns = ["id", "given_names", "family_name", *fields]
    return pd.concat([sample, strangers[[c for c in columns if c in strangers.columns]]],
                     ignore_index=True)


def _dob_agrees(agreement: str) -> bool:
    return any(part.strip().startswith("dob:") for part in agreement.split(";"))


@contextmanager
def _quiet_splink() -> Iterator[None]:
    """Splink narrates training on the root of its loggers; a screening prints JSON only."""
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def score(setup: ScreeningSetup, travellers: list[Traveller]) -> dict[str, list[Candidate]]:
    """Candidates per traveller id (T1, ...), best first."""
    with _quiet_splink():
        return _score(setup, travellers)


def _score(setup: ScreeningSetup, travellers: list[Traveller]) -> dict[str, list[Candidate]]:
    registry = load_source("registry", setup.registry, load_mapping(setup.registry_mapping))
    frame = traveller_frame(travellers)
    if registry.frame.empty or frame.empty:
        return {}
    fields = [f for f in features.shared_fields(registry.frame, frame) if f in ("dob", "sex")]
    engine = Engine(setup.engine)
    ref = _model_for(engine, setup, registry, fields)
    # strangers pad a small registry here too: term frequencies come from the inputs, and
    # in a registry of a handful of people every name would look common
    left = features.splink_input(_with_strangers(registry.frame, fields), fields)
    right = features.splink_input(frame, fields, side="i")
    links = matching.predict(engine, ref, MODEL_NAME, left, right, setup.threshold).links
    people = _Registrants(registry.frame)
    out: dict[str, list[Candidate]] = {}
    for row in links.sort_values("match_weight", ascending=False).itertuples():
        record, registrant = str(row.record_id), str(row.registry_id)
        if float(row.match_probability) < setup.threshold or registrant.startswith(STRANGER):
            continue
        given = travellers[int(record[1:]) - 1].fields
        verdict = identity.judge(given, people.row(registrant),
                                 _dob_label(given, people.row(registrant), str(row.agreement)))
        if not verdict.keep:
            continue  # a name in common is not a candidate
        out.setdefault(record, []).append(Candidate(
            registrant, float(row.match_probability), float(row.match_weight),
            "; ".join(p for p in (str(row.agreement), verdict.evidence) if p)))
    for i, traveller in enumerate(travellers):
        _by_document(f"T{i + 1}", traveller, people, out)
    return out


class _Registrants:
    """The registry's rows by id, and its travel documents by number."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.drop_duplicates("id").set_index("id", drop=False)
        self.by_document: dict[str, list[str]] = {}
        if any(c in frame.columns for c in identity.DOCUMENT_COLUMNS):
            columns = ["id", *(c for c in identity.DOCUMENT_COLUMNS if c in frame.columns)]
            for record in frame[columns].to_dict("records"):
                for number in identity.documents(record):
                    self.by_document.setdefault(number, []).append(str(record["id"]))

    def row(self, registry_id: str) -> dict[str, object]:
        if registry_id not in self.frame.index:
            return {}
        return dict(self.frame.loc[registry_id].to_dict())


def _dob_label(traveller: dict[str, str], registrant: dict[str, object], agreement: str) -> str:
    """The linkage's word on the dates: "" where a side has none, "exact", "different", or
    "close" (swapped, a typo, a placeholder)."""
    born = registrant.get("dob")
    if not traveller.get("dob") or born is None or born != born:
        return ""
    if "dob: exact" in agreement:
        return "exact"
    return "close" if _dob_agrees(agreement) else "different"


def _by_document(record: str, traveller: Traveller, people: _Registrants,
                 out: dict[str, list[Candidate]]) -> None:
    """Registrants holding the traveller's document number, if the linkage missed them."""
    have = {c.registry_id for c in out.get(record, [])}
    for number in identity.documents(traveller.fields):
        for registrant in people.by_document.get(number, []):
            if registrant in have:
                continue
            verdict = identity.judge(traveller.fields, people.row(registrant), "")
            if verdict.keep:
                have.add(registrant)
                out.setdefault(record, []).append(Candidate(
                    registrant, DOCUMENT_PROBABILITY, 10.0, verdict.evidence))


def screen(setup: ScreeningSetup, manifest: Manifest,
           now: datetime | None = None) -> list[Screened]:
    """Every traveller of the manifest with their candidates and the lead time left."""
    at = now or datetime.now(UTC)
    found = score(setup, manifest.travellers)
    return [
        Screened(t, found.get(f"T{i + 1}", []),
                 (t.departure_at - at).total_seconds() / 3600)
        for i, t in enumerate(manifest.travellers)
    ]
