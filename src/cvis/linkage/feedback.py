"""Review decisions fed back as labels when the model is retrained.

A confirmed link is a labelled true pair: the levels its names, date of birth, sex,
state and national id agreed at update the fixed m-probabilities (the shipped defaults
count as ``calibration.PRIOR_STRENGTH`` pairs). With enough confirmed and rejected links, the
probability map is refitted on the decisions too.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import numpy as np

from cvis.linkage import calibration
from cvis.linkage.state import LinkageState

#: Decisions of each kind needed before the probability map is refitted on them.
MIN_FOR_PLATT = 30


def calibration_with_decisions(state: LinkageState, index: str) -> calibration.Calibration:
    """The shipped calibration, updated by this index's remembered decisions."""
    base = calibration.shipped()
    rows = state.query(
        "SELECT decision, explanation FROM decisions WHERE index_name = ? "
        "AND explanation IS NOT NULL", [index])
    if rows.empty:
        return base
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    weights, labels = [], []
    for decision, raw in zip(rows["decision"], rows["explanation"], strict=True):
        doc = json.loads(raw)
        if "match_weight" in doc:
            weights.append(float(doc["match_weight"]))
            labels.append(1.0 if decision == "confirm" else 0.0)
        if decision != "confirm":
            continue
        for item in doc.get("fields", []):
            if item["field"] in calibration.FIXED:
                counts[item["field"]][item["agreement"]] += 1
    m = calibration.m_from_counts(counts, base) if counts else dict(base.m)
    a, b, iso = base.platt_a, base.platt_b, base.isotonic
    if labels.count(1.0) >= MIN_FOR_PLATT and labels.count(0.0) >= MIN_FOR_PLATT:
        a, b = calibration.fit_platt(np.array(weights), np.array(labels))
        iso = None  # the deployment's own decisions replace the generated map
    return calibration.Calibration(m=m, platt_a=a, platt_b=b, isotonic=iso,
                                   source=f"{base.source} + {len(rows)} review decisions",
                                   labels=base.labels + len(rows))
