"""Score registry x index pairs with a saved model and fold name forms back to records."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from cvis.linkage import comparisons
from cvis.linkage.engines import Engine
from cvis.linkage.model import ModelRef, load_settings

log = logging.getLogger(__name__)

LINK_COLUMNS = ["registry_id", "index", "record_id", "match_probability", "match_weight"]


@dataclass(frozen=True)
class IndexLinks:
    """Links of one index: one row per (registrant, record), best name form kept."""

    index: str
    links: pd.DataFrame  # LINK_COLUMNS + agreement


def _agreement(row: pd.Series, specs: list[comparisons.ComparisonSpec]) -> str:
    parts = []
    for spec in specs:
        gamma = int(row[f"gamma_{spec.name}"])
        if gamma > 0:
            parts.append(f"{spec.name}: {spec.label(gamma)}")
    return "; ".join(parts)


def predict(
    engine: Engine,
    ref: ModelRef,
    index: str,
    left: pd.DataFrame,
    right: pd.DataFrame,
    threshold: float,
) -> IndexLinks:
    """Pairs at or above `threshold`, each with the fields that agreed."""
    settings = load_settings(ref)
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = True
    linker = engine.linker([left, right], settings)
    pairs = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    log.info("%s: %d scored name-form pairs at or above threshold", index, len(pairs))
    if pairs.empty:
        empty = pd.DataFrame(columns=[*LINK_COLUMNS, "agreement"])
        return IndexLinks(index, empty)
    flip = ~pairs["unique_id_l"].astype(str).str.startswith("r:")
    reg = pairs["record_id_l"].where(~flip, pairs["record_id_r"])
    rec = pairs["record_id_r"].where(~flip, pairs["record_id_l"])
    pairs = pairs.assign(registry_id=reg, record_id=rec)
    best = pairs.sort_values("match_weight", ascending=False).drop_duplicates(
        ["registry_id", "record_id"]
    )
    specs = comparisons.build(list(ref.fields))
    best = best.assign(
        index=index,
        agreement=best.apply(_agreement, axis=1, specs=specs) if len(best) else [],
    )
    out = best[[*LINK_COLUMNS, "agreement"]].sort_values(
        ["registry_id", "match_weight"], ascending=[True, False]
    )
    return IndexLinks(index, out.reset_index(drop=True))
