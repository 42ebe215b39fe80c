"""Duplicates within one table (the FEBRL3 benchmark; also a registry's own duplicates)."""

from __future__ import annotations

import pandas as pd

from cvis.linkage import features, model
from cvis.linkage.engines import Engine


def duplicates(engine: Engine, frame: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """Pairs of distinct records (id_l < id_r) scored as the same person."""
    fields = [f for f in features.PLAIN_FIELDS
              if f in frame.columns and frame[f].notna().any()]
    rows = features.splink_input(frame, fields)
    features.mark_common_names(rows, rows)
    linker = engine.linker([rows], model.settings(fields, link_type="dedupe_only"))
    model.fit(linker, fields)
    pairs = linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
    a, b = pairs["record_id_l"].astype(str), pairs["record_id_r"].astype(str)
    out = pd.DataFrame({"id_l": a.where(a < b, b), "id_r": b.where(a < b, a),
                        "match_probability": pairs["match_probability"],
                        "match_weight": pairs["match_weight"]})
    out = out[out["id_l"] != out["id_r"]]
    return out.sort_values("match_weight", ascending=False).drop_duplicates(["id_l", "id_r"])
