"""What labelled data teaches the model: fixed m-probabilities and a probability map.

EM among namesakes learns the wrong lesson: blocked on names, most pairs are two
people with the same name, and EM concludes that a date of birth that disagrees is
common among matches. The m-probabilities of the name and date-of-birth comparisons
are therefore fixed from labelled pairs: the project's own generated calibration
sets (``python benchmarks/linkage.py calibrate``, seeds apart from the benchmark's),
updated by a deployment's review decisions when it retrains. The Fellegi-Sunter
probability is then mapped through a logistic (Platt) fit on the same labelled
pairs, so that ``match_probability`` means what it says.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

FORMAT = "cvis-linkage-calibration/1"
#: Comparisons whose m-probabilities are fixed (EM may not wash them out). Sex, state and
#: national id too: blocked on names, EM takes namesakes for matches and learns that a
#: different sex or identifier is common among them (m(sex differs) 0.12, m(id differs)
#: 0.14), so a record that is plainly someone else loses only two or three bits.
FIXED = ("given_name", "family_name", "name_order", "dob", "sex", "state", "national_id")
#: No level is impossible among true matches; this keeps every weight finite.
M_FLOOR = 0.005
#: How many labelled pairs the shipped defaults count for against a deployment's own.
PRIOR_STRENGTH = 200.0


@dataclass(frozen=True)
class Calibration:
    """m-probabilities per comparison level label, and the Platt map on match weight."""

    m: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    platt_a: float = math.log(2)  # the identity map: p = 1 / (1 + 2^-w)
    platt_b: float = 0.0
    source: str = "none"
    labels: int = 0
    #: Isotonic map (weight knots, probabilities); used instead of Platt when present.
    isotonic: tuple[tuple[float, ...], tuple[float, ...]] | None = None

    def probability(self, weight: np.ndarray) -> np.ndarray:
        """Calibrated match probability of Splink match weights (log2 Bayes factors)."""
        w = np.asarray(weight, dtype=float)
        if self.isotonic:
            return np.interp(w, self.isotonic[0], self.isotonic[1])
        z = np.clip(self.platt_a * w + self.platt_b, -50, 50)
        return 1.0 / (1.0 + np.exp(-z))

    def weight_for(self, probability: float) -> float:
        """The smallest match weight whose calibrated probability reaches `probability`."""
        p = min(max(probability, 1e-9), 1 - 1e-9)
        if self.isotonic:
            xs, ys = np.array(self.isotonic[0]), np.array(self.isotonic[1])
            above = np.flatnonzero(ys >= p)
            if not len(above):
                return float(xs[-1]) + 1.0
            k = int(above[0])
            if k == 0:
                return -math.inf
            return float(np.interp(p, ys[k - 1:k + 1], xs[k - 1:k + 1]))
        return (math.log(p / (1 - p)) - self.platt_b) / self.platt_a

    def as_dict(self) -> dict[str, Any]:
        doc = {"format": FORMAT, "m": {k: dict(v) for k, v in self.m.items()},
               "platt": {"a": self.platt_a, "b": self.platt_b}, "source": self.source,
               "labels": self.labels}
        if self.isotonic:
            doc["isotonic"] = {"weight": list(self.isotonic[0]),
                               "probability": list(self.isotonic[1])}
        return doc


def from_dict(doc: Mapping[str, Any]) -> Calibration:
    platt = doc.get("platt", {})
    iso = doc.get("isotonic")
    return Calibration(m={k: dict(v) for k, v in doc.get("m", {}).items()},
                       platt_a=float(platt.get("a", math.log(2))),
                       platt_b=float(platt.get("b", 0.0)),
                       source=str(doc.get("source", "")), labels=int(doc.get("labels", 0)),
                       isotonic=(tuple(iso["weight"]), tuple(iso["probability"])) if iso
                       else None)


def shipped() -> Calibration:
    """The defaults measured on the project's generated labelled sets."""
    path = resources.files("cvis.linkage").joinpath("data/calibration.json")
    if not path.is_file():
        return Calibration()
    return from_dict(json.loads(path.read_text("utf-8")))


def m_from_counts(counts: Mapping[str, Mapping[str, float]],
                  prior: Calibration | None = None,
                  strength: float = PRIOR_STRENGTH) -> dict[str, dict[str, float]]:
    """m per level from labelled true pairs' level counts, smoothed towards `prior`
    (its m as pseudo-counts worth `strength` pairs) and floored at M_FLOOR."""
    out: dict[str, dict[str, float]] = {}
    for comparison in set(counts) | set(prior.m if prior else {}):
        seen = dict(counts.get(comparison, {}))
        base = dict(prior.m.get(comparison, {})) if prior else {}
        levels = set(seen) | set(base)
        raw = {lvl: seen.get(lvl, 0.0) + strength * base.get(lvl, 0.0) for lvl in levels}
        total = sum(raw.values())
        if total <= 0:
            continue
        floored = {lvl: max(v / total, M_FLOOR) for lvl, v in raw.items()}
        norm = sum(floored.values())
        out[comparison] = {lvl: v / norm for lvl, v in floored.items()}
    return out


def fit_platt(weights: np.ndarray, labels: np.ndarray, iterations: int = 50
              ) -> tuple[float, float]:
    """Logistic regression of labels on match weight (two parameters, Newton's method,
    a small ridge so that a perfectly separated sample stays finite)."""
    x = np.asarray(weights, dtype=float)
    y = np.asarray(labels, dtype=float)
    a, b = math.log(2), 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * x + b, -50, 50)))
        w = p * (1 - p) + 1e-9
        grad = np.array([np.sum((p - y) * x) + 1e-3 * a, np.sum(p - y)])
        hess = np.array([[np.sum(w * x * x) + 1e-3, np.sum(w * x)],
                         [np.sum(w * x), np.sum(w)]])
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def fit_isotonic(weights: np.ndarray, labels: np.ndarray, knots: int = 400
                 ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Isotonic regression of labels on match weight (pool-adjacent-violators), kept as
    at most `knots` points (one per block, evenly thinned beyond that) of a
    non-decreasing piecewise-linear map through the blocks' mean weights."""
    order = np.argsort(weights, kind="stable")
    x, y = np.asarray(weights, float)[order], np.asarray(labels, float)[order]
    means, sizes, centres_ = [], [], []
    for xi, yi in zip(x, y, strict=True):
        means.append(yi)
        sizes.append(1.0)
        centres_.append(xi)
        while len(means) > 1 and means[-2] >= means[-1]:
            total = sizes[-2] + sizes[-1]
            means[-2] = (means[-2] * sizes[-2] + means[-1] * sizes[-1]) / total
            centres_[-2] = (centres_[-2] * sizes[-2] + centres_[-1] * sizes[-1]) / total
            sizes[-2] = total
            means.pop()
            sizes.pop()
            centres_.pop()
    centres = np.array(centres_)
    values = np.clip(np.array(means), 0.0005, 0.9995)
    pick = np.unique(np.linspace(0, len(centres) - 1, min(knots, len(centres))).astype(int))
    return tuple(float(v) for v in centres[pick]), tuple(float(v) for v in values[pick])
