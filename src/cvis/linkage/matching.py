"""Score registry x index pairs with a saved model and fold name forms back to records.

Every scored pair carries its explanation: for each compared field, how it agreed
("family_name: variant", "dob: day and month swapped") and the weight that level
gave (log2 Bayes factor, term-frequency adjustment included).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cvis.linkage import calibration, comparisons, features
from cvis.linkage.engines import Engine
from cvis.linkage.model import ModelRef, load_calibration, load_settings

log = logging.getLogger(__name__)

LINK_COLUMNS = ["registry_id", "index", "record_id", "match_probability", "match_weight"]
SCORED_COLUMNS = [*LINK_COLUMNS, "raw_probability", "agreement", "explanation"]


@dataclass(frozen=True)
class IndexLinks:
    """Scored pairs of one index: one row per (registrant, record), best name form kept."""

    index: str
    links: pd.DataFrame  # SCORED_COLUMNS


def _explain(best: pd.DataFrame, specs: list[comparisons.ComparisonSpec],
             prior_weight: float) -> tuple[list[str], list[str]]:
    """Per pair: the agreement text (agreeing fields) and the explanation JSON."""
    labels, weights = [], []
    full = best["full_name_weight"].to_numpy(dtype=float)
    for spec in specs:
        gamma = best[f"gamma_{spec.name}"].to_numpy(dtype=int)
        labels.append([spec.label(int(g)) for g in gamma])
        bf = best[f"bf_{spec.name}"].to_numpy(dtype=float)
        tf_col = f"bf_tf_adj_{spec.name}"
        if tf_col in best.columns:
            bf = bf * best[tf_col].fillna(1.0).to_numpy(dtype=float)
        weights.append(np.log2(np.clip(bf, 1e-300, None)))
    agreement, explanation = [], []
    for row in range(len(best)):
        fields, agreed = [], []
        for k, spec in enumerate(specs):
            label = labels[k][row]
            if label == "missing":
                continue
            fields.append({"field": spec.name, "agreement": label,
                           "weight": round(float(weights[k][row]), 2)})
            if label != "different":
                agreed.append(f"{spec.name}: {label}")
        if full[row] < 0:
            fields.append({"field": "full_name", "agreement": "common combination",
                           "weight": round(float(full[row]), 2)})
        agreement.append("; ".join(agreed))
        explanation.append(json.dumps({"prior_weight": round(prior_weight, 2),
                                       "fields": fields}))
    return agreement, explanation


@dataclass(frozen=True)
class NameFrequencies:
    """Share of rows (both tables) holding each given name, family name and full name."""

    given: pd.Series
    family: pd.Series
    full: pd.Series


def name_frequencies(left: pd.DataFrame, right: pd.DataFrame) -> NameFrequencies:
    names = pd.concat([left[["given_std", "family_std"]], right[["given_std", "family_std"]]],
                      ignore_index=True)
    both = names.dropna()
    return NameFrequencies(names["given_std"].value_counts(normalize=True),
                           names["family_std"].value_counts(normalize=True),
                           (both["given_std"] + "|" + both["family_std"]).value_counts(
                               normalize=True))


def _full_name_adjustment(pairs: pd.DataFrame, freq: NameFrequencies) -> np.ndarray:
    """Term-frequency adjustment of the full name, in bits, for pairs whose given and family
    names both agree exactly: the given- and family-name adjustments assume the two names
    independent, but within a culture they are not (Nguyen goes with Anh, Hassan with
    Mohamed), so the product of their frequencies understates how common the pair is.
    The correction replaces that product with the frequency of the full name."""
    exact = ((pairs["given_std_l"] == pairs["given_std_r"])
             & (pairs["family_std_l"] == pairs["family_std_r"])).fillna(False).to_numpy(bool)
    out = np.zeros(len(pairs))
    if exact.any():
        sub = pairs.loc[exact]
        g = sub["given_std_l"].map(freq.given).to_numpy(float)
        f = sub["family_std_l"].map(freq.family).to_numpy(float)
        full = (sub["given_std_l"] + "|" + sub["family_std_l"]).map(freq.full).to_numpy(float)
        out[exact] = np.nan_to_num(np.log2(g * f / full), nan=0.0)
    return np.minimum(out, 0.0)  # only ever a discount: rare pairings are not rewarded


#: Scored pairs come back from the engine this many at a time (DuckDB), so that only the
#: pairs that pass the floor are ever held together in pandas.
CHUNK_ROWS = 250_000


def _pair_chunks(engine: Engine, found: object, specs: list[comparisons.ComparisonSpec]
                 ) -> Iterator[pd.DataFrame]:
    """Only the columns the explanation and the full-name correction read, selected in the
    engine before anything reaches pandas, in chunks: every pair above Splink's floor comes
    back, and with all matching columns (name-group arrays and all) the copy would dominate
    the run's peak memory."""
    wanted = ["unique_id_l", "unique_id_r", "record_id_l", "record_id_r", "match_weight",
              "match_probability", "given_std_l", "given_std_r", "family_std_l",
              "family_std_r"]
    for spec in specs:
        wanted += [f"gamma_{spec.name}", f"bf_{spec.name}", f"bf_tf_adj_{spec.name}"]
    if engine.name == "duckdb":
        rel = found.as_duckdbpyrelation()  # type: ignore[attr-defined]
        reader = rel.select(", ".join(c for c in wanted if c in rel.columns)
                            ).to_arrow_reader(CHUNK_ROWS)
        for batch in reader:
            yield batch.to_pandas()
        return
    if engine.name == "spark":
        frame = found.as_spark_dataframe()  # type: ignore[attr-defined]
        yield frame.select([c for c in wanted if c in frame.columns]).toPandas()
        return
    out: pd.DataFrame = found.as_pandas_dataframe()  # type: ignore[attr-defined]
    yield out[[c for c in wanted if c in out.columns]]


def _above_floor(pairs: pd.DataFrame, freq: NameFrequencies, cal: calibration.Calibration,
                 floor: float) -> pd.DataFrame:
    """One chunk: registry and record ids, the full-name discount applied, and only the
    pairs whose calibrated probability still reaches the floor."""
    flip = ~pairs["unique_id_l"].astype(str).str.startswith("r:")
    reg = pairs["record_id_l"].where(~flip, pairs["record_id_r"])
    rec = pairs["record_id_r"].where(~flip, pairs["record_id_l"])
    adjust = _full_name_adjustment(pairs, freq)
    pairs = pairs.assign(registry_id=reg.astype(str), record_id=rec.astype(str),
                         full_name_weight=adjust, match_weight=pairs["match_weight"] + adjust)
    keep = cal.probability(pairs["match_weight"].to_numpy()) >= floor
    return pairs[keep].drop(columns=["unique_id_l", "unique_id_r", "record_id_l",
                                     "record_id_r", "given_std_l", "given_std_r",
                                     "family_std_l", "family_std_r"])


def predict(
    engine: Engine,
    ref: ModelRef,
    index: str,
    left: pd.DataFrame,
    right: pd.DataFrame,
    floor: float,
) -> IndexLinks:
    """Pairs whose calibrated probability is at least `floor`, with their evidence.
    `left` and `right` gain the common-name flags of features.mark_common_names."""
    return predict_consuming(engine, ref, index, [left, right], floor)


def predict_consuming(engine: Engine, ref: ModelRef, index: str, inputs: list[pd.DataFrame],
                      floor: float) -> IndexLinks:
    """`predict` on [left, right], emptying `inputs` once the engine holds its own copy of
    the tables: a caller that keeps no other reference frees the pandas frames (gigabytes
    at millions of records) before the pairs are scored."""
    settings = load_settings(ref)
    cal = load_calibration(ref)
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = True  # Splink keeps gamma columns only with them
    # Blocking is how candidates are found, not part of what the model learnt: the current
    # rules apply to every model, so an older model never pairs all holders of a common name.
    dialect = "spark" if engine.name == "spark" else "duckdb"
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": rule, "sql_dialect": dialect}
        for rule in comparisons.blocking_rules(list(ref.fields))]
    features.mark_common_names(inputs[0], inputs[1])
    freq = name_frequencies(inputs[0], inputs[1])
    linker = engine.linker(inputs, settings)
    inputs.clear()
    found = linker.inference.predict(
        # the full-name discount is applied after Splink: score down to 8 bits below
        threshold_match_weight=max(cal.weight_for(floor), -40.0) - 8.0)
    specs = comparisons.build(list(ref.fields))
    kept, seen = [], 0
    for chunk in _pair_chunks(engine, found, specs):
        seen += len(chunk)
        kept.append(_above_floor(chunk, freq, cal, floor))
    engine.release(linker)
    log.info("%s: %d scored name-form pairs above Splink's floor", index, seen)
    best = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    if best.empty:
        return IndexLinks(index, pd.DataFrame(columns=SCORED_COLUMNS))
    best = best.sort_values("match_weight", ascending=False).drop_duplicates(
        ["registry_id", "record_id"]
    ).reset_index(drop=True)
    lam = float(settings.get("probability_two_random_records_match", 1e-4))
    agreement, explanation = _explain(best, specs, math.log2(lam / (1 - lam)))
    best = best.assign(
        index=index, raw_probability=best["match_probability"],
        match_probability=cal.probability(best["match_weight"].to_numpy()),
        agreement=agreement, explanation=explanation,
    )
    out = best[SCORED_COLUMNS].sort_values(
        ["registry_id", "match_weight"], ascending=[True, False]
    )
    return IndexLinks(index, out.reset_index(drop=True))
