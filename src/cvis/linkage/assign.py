"""Plausible link sets: the index is grouped into identities, and a registrant links to
one identity unless the evidence supports more.

Index records of one person (the same national id, or the same name keys and a real
date of birth) form one identity. For each registrant the candidate identities are
ranked by their best pair; the best one is linked when it reaches the threshold, a
further identity only when its own evidence is strong (``SECOND_IDENTITY``); the rest
above the review floor go to the clerical-review band. A registrant with more than
``MAX_CANDIDATES`` candidate identities is one review item, not dozens of links. The
other way round too: an index record linked by several registrants stays with the one
that scores highest; the others go to review unless their own evidence is strong.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

#: A second identity is linked too only at or above this calibrated probability.
SECOND_IDENTITY = 0.9
#: More candidate identities than this make the registrant a review item.
MAX_CANDIDATES = 10

LINK, REVIEW = "link", "review"


def _components(keys: list[pd.Series], n: int) -> np.ndarray:
    """Connected components of records sharing any key (label propagation to the minimum
    position; a few rounds suffice, since identities are small)."""
    label = np.arange(n)
    for _ in range(20):
        before = label.copy()
        for key in keys:
            present = key.notna().to_numpy()
            if not present.any():
                continue
            frame = pd.DataFrame({"k": key[present].to_numpy(), "l": label[present]})
            smallest = frame.groupby("k")["l"].transform("min").to_numpy()
            idx = np.flatnonzero(present)
            np.minimum.at(label, idx, smallest)
            label = label[label]  # shortcut chains
        if np.array_equal(before, label):
            break
    return label


def index_identities(right: pd.DataFrame) -> pd.DataFrame:
    """Per index record id: its identity key and the keys that say whether two records
    could be one person (real date of birth, national id), from the Splink input."""
    primary = right[right["unique_id"].astype(str).str.startswith("i:0:")].reset_index(drop=True)
    keys = []
    if "national_id" in primary.columns:
        keys.append(primary["national_id"])
    if "dob_block" in primary.columns:
        names = primary["given_canon"].astype("string") + "|" + primary["family_canon"].astype(
            "string") + "|" + primary["dob_block"].astype("string")
        keys.append(names.astype(object).where(names.notna(), None))
    label = _components(keys, len(primary)) if keys else np.arange(len(primary))
    ids = primary["record_id"].astype(str).to_numpy()
    out = pd.DataFrame({"identity": ids[label]}, index=ids)
    for col in ("dob_block", "dob_dm", "national_id"):
        out[col] = primary[col].to_numpy() if col in primary.columns else None
    return out


def _compatible(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Whether index records `a` and `b` (row-aligned) could be one person: no real dates
    of birth that differ (day/month swaps allowed), no national ids that differ."""
    def agree(x: pd.Series, y: pd.Series) -> np.ndarray:
        return (x.isna().to_numpy() | y.isna().to_numpy()
                | (x.to_numpy() == y.to_numpy()))

    dob_ok = (agree(a["dob_block"], b["dob_block"])
              | (a["dob_dm"].to_numpy() == b["dob_block"].to_numpy())
              | _one_typo(a["dob_block"], b["dob_block"]))
    return dob_ok & agree(a["national_id"], b["national_id"])


def _one_typo(x: pd.Series, y: pd.Series) -> np.ndarray:
    """ISO dates that differ in one character (a slip of one digit)."""
    out = np.zeros(len(x), dtype=bool)
    xs, ys = x.to_numpy(), y.to_numpy()
    both = x.notna().to_numpy() & y.notna().to_numpy()
    for i in np.flatnonzero(both):
        a, b = str(xs[i]), str(ys[i])
        out[i] = len(a) == len(b) and sum(c != d for c, d in zip(a, b, strict=True)) <= 1
    return out


def _relative(explanation: pd.Series) -> np.ndarray:
    """Same date of birth, given names that do not agree and no shared identifier: possibly
    a sibling or twin, whose family name, birthday and address agree by kinship."""
    out = []
    for raw in explanation:
        levels = {f["field"]: f["agreement"] for f in json.loads(raw)["fields"]} if raw else {}
        out.append(levels.get("dob") == "exact"
                   and levels.get("given_name") in ("different", "similar spelling")
                   and levels.get("national_id") != "exact")
    return np.array(out, dtype=bool)


def _claimed(pairs: pd.DataFrame, link: np.ndarray) -> np.ndarray:
    """Links whose index record another registrant links to with a higher probability: a
    record is one person, so the lesser claim stands only on strong evidence of its own
    (the registry's own duplicates), at SECOND_IDENTITY or above."""
    linked = pairs.loc[link, ["record_id", "match_probability"]]
    best = linked.groupby("record_id")["match_probability"].transform("max")
    lesser = (linked["match_probability"] < best) & (linked["match_probability"] < SECOND_IDENTITY)
    out = np.zeros(len(pairs), dtype=bool)
    out[np.flatnonzero(link)[lesser.to_numpy()]] = True
    return out


def plausible(scored: pd.DataFrame, records: pd.DataFrame, threshold: float,
              review_floor: float) -> pd.DataFrame:
    """`scored` pairs (one index) with `band` (link | review) and `reason`; `records`
    from `index_identities`; pairs below the review floor are dropped."""
    pairs = scored[scored["match_probability"] >= review_floor].copy()
    if pairs.empty:
        return pairs.assign(identity=[], band=[], reason=[])
    pairs["identity"] = records["identity"].reindex(pairs["record_id"].astype(str)).fillna(
        pairs["record_id"].astype(str)).to_numpy()
    best = (pairs.groupby(["registry_id", "identity"], sort=False)["match_probability"].max()
            .rename("identity_p").reset_index())
    best = best.sort_values(["registry_id", "identity_p"], ascending=[True, False])
    best["rank"] = best.groupby("registry_id").cumcount()
    best["candidates"] = best.groupby("registry_id")["identity"].transform("size")
    pairs = pairs.merge(best, on=["registry_id", "identity"], how="left")
    top = (pairs[pairs["rank"] == 0].sort_values("match_probability", ascending=False)
           .drop_duplicates("registry_id").set_index("registry_id")["record_id"])
    lead = records.reindex(top.reindex(pairs["registry_id"]).to_numpy())
    here = records.reindex(pairs["record_id"].astype(str).to_numpy())
    fits = _compatible(here, lead)
    p, rank, many = pairs["match_probability"], pairs["rank"], pairs["candidates"] > MAX_CANDIDATES
    relative = _relative(pairs["explanation"])
    second = (rank > 0) & (p >= threshold) & ((p >= SECOND_IDENTITY) | fits)
    link = ~many & ~relative & (((rank == 0) & (p >= threshold)) | second)
    taken = link & _claimed(pairs, link)
    link &= ~taken
    reason = np.select(
        [link, many, relative & (p >= threshold), taken, (rank > 0) & (p >= threshold)],
        ["", pairs["candidates"].map(lambda c: f"{c} candidate identities"),
         "given names differ: possibly a relative", "another registrant scores higher",
         "another identity scores higher"],
        default="below the link threshold")
    return pairs.assign(band=np.where(link, LINK, REVIEW), reason=reason).drop(
        columns=["identity_p", "rank", "candidates"])
