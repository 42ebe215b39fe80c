"""The explainable target score: named factors with points and floors, tiers, versioned weights.

The score ranks subjects for a person to look at; nothing is done on a score. Each
factor says what fact made it apply (its sources), so a reader can check the reason.
Weights live in a TOML file (``data/targets.toml`` by default, or ``$CVIS_HOME/
targets.toml``) with a version recorded on every list.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cvis.fusion.subjects import FactView

DEFAULT_CONFIG = Path(__file__).parent / "data" / "targets.toml"
TRUE = {True, "true", "yes", "y", "1", "Y", "TRUE", "Yes"}


class TargetConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Factor:
    name: str
    points: int
    label: str = ""
    floor: str | None = None
    per: bool = False
    max: int | None = None


@dataclass(frozen=True)
class TargetConfig:
    version: str
    tiers: tuple[tuple[str, int], ...]  # best first
    factors: dict[str, Factor]
    recent_days: int = 90
    min_confidence: float = 0.5

    def tier_rank(self, tier: str) -> int:
        return [t for t, _ in self.tiers].index(tier) if tier != "none" else len(self.tiers)


def load_config(path: Path | None = None) -> TargetConfig:
    """Read and check the weights file (unknown factors or tiers are errors)."""
    source = path or DEFAULT_CONFIG
    try:
        doc = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TargetConfigError(f"{source}: {exc}") from exc
    tiers = tuple((str(t["name"]), int(t["min"])) for t in doc.get("tiers", []))
    names = {t for t, _ in tiers}
    factors = {}
    for name, raw in doc.get("factors", {}).items():
        if name not in RULES:
            raise TargetConfigError(f"{source}: unknown factor {name!r}")
        if raw.get("floor") and raw["floor"] not in names:
            raise TargetConfigError(f"{source}: factor {name} has unknown floor {raw['floor']!r}")
        factors[name] = Factor(name, int(raw["points"]), raw.get("label", ""), raw.get("floor"),
                               bool(raw.get("per", False)), raw.get("max"))
    if "version" not in doc or not tiers:
        raise TargetConfigError(f"{source}: a version and at least one tier are required")
    return TargetConfig(str(doc["version"]), tiers, factors, int(doc.get("recent_days", 90)),
                        float(doc.get("min_confidence", 0.5)))


# ---------------------------------------------------------------------- the factors


@dataclass(frozen=True)
class Window:
    today: date
    recent_days: int
    min_confidence: float


def _flag(name: str) -> Callable[[list[FactView], Window], list[FactView]]:
    def rule(facts: list[FactView], _w: Window) -> list[FactView]:
        return [f for f in facts if f.name == name and f.value in TRUE]
    return rule


def _absconder(facts: list[FactView], _w: Window) -> list[FactView]:
    return [f for f in facts if (f.name == "absconder" and f.value in TRUE)
            or (f.name == "compliance" and str(f.value).lower() in ("absconded", "absconder"))]


def _release(facts: list[FactView], w: Window) -> list[FactView]:
    out = []
    for f in facts:
        if f.name != "release_date" or not f.value:
            continue
        try:
            day = date.fromisoformat(str(f.value)[:10])
        except ValueError:
            continue
        if w.today <= day <= w.today + timedelta(days=90):
            out.append(f)
    return out


def _recent(name: str) -> Callable[[list[FactView], Window], list[FactView]]:
    """Facts of this name observed recently (a date value, e.g. new material on, wins)."""
    def rule(facts: list[FactView], w: Window) -> list[FactView]:
        out = []
        for f in facts:
            if f.name != name or f.value in (None, False, "", "false"):
                continue
            try:
                day = date.fromisoformat(str(f.value)[:10])
            except ValueError:
                day = f.observed_at.date()
            if w.today - timedelta(days=w.recent_days) <= day <= w.today:
                out.append(f)
        return out
    return rule


RULES: dict[str, Callable[[list[FactView], Window], list[FactView]]] = {
    "absconder": _absconder,
    "charged_at_large": _flag("wanted"),
    "offence_against_child": _flag("offence_against_child"),
    "contact_offence": _flag("contact_offence"),
    "removable": _flag("removable"),
    "release_within_90_days": _release,
    "recent_tips": _recent("tip"),
    "new_material": _recent("case_new_material"),
    "unidentified_victim": _flag("unidentified_victim"),
}


@dataclass
class Score:
    score: int
    tier: str
    factors: list[dict[str, Any]] = field(default_factory=list)  # name, points, label, facts

    def contract_factors(self) -> list[dict[str, Any]]:
        return [{"name": f["name"], "points": f["points"]} for f in self.factors]


def score_facts(facts: list[FactView], config: TargetConfig, today: date) -> Score:
    """Points per factor that applies, the total, and the tier (raised to any floor)."""
    window = Window(today, config.recent_days, config.min_confidence)
    usable = [f for f in facts if f.confidence >= config.min_confidence]
    applied: list[dict[str, Any]] = []
    floors: list[str] = []
    for name, factor in config.factors.items():
        support = RULES[name](usable, window)
        if not support:
            continue
        points = factor.points * (len(support) if factor.per else 1)
        if factor.max is not None:
            points = min(points, int(factor.max))
        applied.append({"name": name, "points": points, "label": factor.label,
                        "facts": [f.fact_id for f in support],
                        "sources": sorted({(f.source_kind, f.source_ref) for f in support})})
        if factor.floor:
            floors.append(factor.floor)
    total = sum(int(f["points"]) for f in applied)
    tier = next((t for t, low in config.tiers if total >= low), "none")
    for floor in floors:
        if config.tier_rank(floor) < config.tier_rank(tier):
            tier = floor
    applied.sort(key=lambda f: (-int(f["points"]), f["name"]))
    return Score(total, tier, applied)


def ordering(config: TargetConfig, score: Score, subject_id: str) -> tuple[int, int, str]:
    """Best first: tier, then score, then a stable id."""
    return (config.tier_rank(score.tier), -score.score, subject_id)


def as_of(value: datetime | date | None) -> date:
    if value is None:
        return date.today()
    return value.date() if isinstance(value, datetime) else value
