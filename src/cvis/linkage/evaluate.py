"""Score links against known truth: precision, recall, F1, recall per corruption type,
false positives per decoy type, and a reliability table (predicted vs observed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Reliability bins over match_probability (lower edges; the last bin is [0.9, 1.0]).
BINS: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class Score:
    """Accuracy of one run against the truth."""

    links: int
    true_links: int
    tp: int
    precision: float
    recall: float
    f1: float
    recall_by_corruption: dict[str, tuple[int, int]] = field(default_factory=dict)
    false_positives_by_decoy: dict[str, int] = field(default_factory=dict)
    reliability: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "links": self.links, "true_links": self.true_links, "tp": self.tp,
            "precision": round(self.precision, 4), "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "recall_by_corruption": {k: {"found": a, "of": b, "recall": round(a / b, 3)}
                                     for k, (a, b) in sorted(self.recall_by_corruption.items())},
            "false_positives_by_decoy": dict(sorted(self.false_positives_by_decoy.items())),
            "reliability": self.reliability,
        }


def reliability(probability: np.ndarray, correct: np.ndarray) -> list[dict[str, object]]:
    """Per probability bin: links, mean predicted probability, observed share true."""
    rows: list[dict[str, object]] = []
    edges = [*BINS, 1.0000001]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (probability >= lo) & (probability < hi)
        if inside.any():
            rows.append({"bin": f"[{lo:.1f}, {min(hi, 1.0):.1f}{']' if hi > 1 else ')'}",
                         "links": int(inside.sum()),
                         "predicted": round(float(probability[inside].mean()), 4),
                         "observed": round(float(correct[inside].mean()), 4)})
    return rows


def score(links: pd.DataFrame, truth: set[tuple[str, str]],
          corruption: dict[tuple[str, str], str] | None = None,
          decoys: dict[str, str] | None = None) -> Score:
    """`links` has registry_id, record_id and match_probability."""
    pairs = list(zip(links["registry_id"].astype(str), links["record_id"].astype(str),
                     strict=True))
    correct = np.array([p in truth for p in pairs], dtype=bool)
    tp = int(correct.sum())
    precision = tp / len(pairs) if pairs else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    found = set(pairs)
    by_kind: dict[str, tuple[int, int]] = {}
    for pair, kind in (corruption or {}).items():
        hit, total = by_kind.get(kind, (0, 0))
        by_kind[kind] = (hit + (pair in found), total + 1)
    fp = Counter((decoys or {}).get(rec, "ordinary record")
                 for (_, rec), ok in zip(pairs, correct, strict=True) if not ok)
    table = reliability(links["match_probability"].to_numpy(dtype=float), correct)
    return Score(len(pairs), len(truth), tp, precision, recall, f1, by_kind, dict(fp), table)
