"""Train, save and reuse the Splink model, one versioned file per index and engine.

The model is trained once and reused every month so that scores are comparable
from run to run; it is retrained on request, or when the fields both sides share
change (the old model would not know the new comparisons).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from splink import SettingsCreator
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from cvis.linkage import calibration, comparisons, features
from cvis.linkage.engines import Engine

log = logging.getLogger(__name__)

#: Bumped when the comparisons change (levels added or reordered): a model saved under
#: another format is retrained, since its explanation labels would no longer line up.
MODEL_FORMAT = "cvis-linkage-model/2"
_VERSION = re.compile(r"model-v(\d+)\.json$")


@dataclass(frozen=True)
class ModelRef:
    """A saved model: where it is, its version, and the fields it compares."""

    path: Path
    version: int
    fields: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.path.parent.name}/v{self.version}"


def settings(
    fields: list[str], link_type: Literal["link_only", "dedupe_only"] = "link_only",
    cal: calibration.Calibration | None = None,
) -> SettingsCreator:
    """Link-only settings for the registry (left) against one index (right); dedupe_only
    to find duplicates within one table. Name and date-of-birth m come fixed from `cal`."""
    fixed = (cal or calibration.shipped()).m
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=[c.to_splink() for c in comparisons.build(fields, fixed)],
        blocking_rules_to_generate_predictions=[
            CustomRule(rule) for rule in comparisons.blocking_rules(fields)
        ],
        additional_columns_to_retain=["record_id"],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _model_dir(models: Path, index: str, engine: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", index)
    return models / f"{safe}.{engine}"


def latest(models: Path, index: str, engine: str) -> ModelRef | None:
    """The newest saved model for this index and engine, if any."""
    folder = _model_dir(models, index, engine)
    found: list[ModelRef] = []
    for path in folder.glob("model-v*.json") if folder.exists() else []:
        m = _VERSION.search(path.name)
        if m:
            meta = json.loads(path.read_text("utf-8")).get("cvis", {})
            found.append(ModelRef(path, int(m.group(1)), tuple(meta.get("fields", []))))
    return max(found, key=lambda r: r.version) if found else None


def _sample(frame: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    if limit is None or len(frame) <= limit:
        return frame
    return frame.sample(n=limit, random_state=42)


def train(
    engine: Engine,
    left: pd.DataFrame,
    right: pd.DataFrame,
    fields: list[str],
    sample: int | None = None,
    cal: calibration.Calibration | None = None,
) -> dict[str, Any]:
    """Training: prior from near-certain rules, u by sampling, name and date-of-birth m
    fixed from labelled data (`cal`), the other m by EM. The calibration travels with
    the model, so that a month's probabilities are read the way they were trained."""
    cal = cal or calibration.shipped()
    left, right = _sample(left, sample), _sample(right, sample)
    features.mark_common_names(left, right)  # the blocking rules' columns (not used here)
    linker = engine.linker([left, right], settings(fields, cal=cal))
    fit(linker, fields)
    doc: dict[str, Any] = linker.misc.save_model_to_json()
    engine.release(linker)
    doc["cvis_calibration"] = cal.as_dict()
    return doc


def fit(linker: Any, fields: list[str]) -> None:
    """Estimate the prior, u and m of a fresh linker in place."""
    linker.training.estimate_probability_two_random_records_match(
        list[str | BlockingRuleCreator](comparisons.deterministic_rules(fields)), recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    for rule in comparisons.training_rules(fields):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )


def save(
    models: Path, index: str, engine: str, model: dict[str, Any], fields: list[str]
) -> ModelRef:
    """Write the next version; old versions stay so earlier runs remain explainable."""
    folder = _model_dir(models, index, engine)
    folder.mkdir(parents=True, exist_ok=True)
    previous = latest(models, index, engine)
    version = previous.version + 1 if previous else 1
    doc = dict(model)
    cal = doc.pop("cvis_calibration", None)
    doc["cvis"] = {
        "calibration": cal,
        "format": MODEL_FORMAT,
        "index": index,
        "engine": engine,
        "version": version,
        "fields": list(fields),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = folder / f"model-v{version:04d}.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    log.info("saved model %s v%d", folder.name, version)
    return ModelRef(path, version, tuple(fields))


def _format(ref: ModelRef) -> str:
    return str(json.loads(ref.path.read_text("utf-8")).get("cvis", {}).get("format", ""))


def load_settings(ref: ModelRef) -> dict[str, Any]:
    """The Splink settings dict of a saved model, without cvis's own metadata."""
    doc = json.loads(ref.path.read_text("utf-8"))
    doc.pop("cvis", None)
    return doc


def load_calibration(ref: ModelRef) -> calibration.Calibration:
    """The calibration the model was trained with (identity map for old models)."""
    meta = json.loads(ref.path.read_text("utf-8")).get("cvis", {})
    return calibration.from_dict(meta.get("calibration") or {})


def obtain(
    models: Path,
    index: str,
    engine: Engine,
    left: pd.DataFrame,
    right: pd.DataFrame,
    fields: list[str],
    retrain: bool = False,
    sample: int | None = None,
    cal: calibration.Calibration | None = None,
) -> ModelRef:
    """Reuse the latest model when it fits these fields; otherwise train a new version
    (with `cal`, e.g. the shipped calibration updated by review decisions)."""
    ref = latest(models, index, engine.name)
    current = ref is not None and _format(ref) == MODEL_FORMAT
    if ref is not None and not retrain and current and list(ref.fields) == list(fields):
        log.info("reusing model %s", ref.label)
        return ref
    if ref is not None and not retrain:
        log.info("%s since %s; retraining", "shared fields changed" if current
                 else "comparisons changed", ref.label)
    trained = train(engine, left, right, fields, sample=sample, cal=cal)
    return save(models, index, engine.name, trained, fields)
