"""Turn canonical records into Splink input: one row per name form, with match keys.

Aliases and native-script names are exploded into extra rows of the same record
(a "name form") rather than compared as arrays: every name comparison, swap and
variant rule then applies to each alias for free, and the best-scoring form wins
when pairs are folded back to records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvis.linkage.names import NameParts, family_features, given_features, split_full_name

#: Non-name canonical fields compared directly when both sides have them.
PLAIN_FIELDS: tuple[str, ...] = (
    "dob",
    "sex",
    "country_of_birth",
    "nationality",
    "address",
    "city",
    "postcode",
    "state",
    "national_id",
)

NAME_FEATURES: tuple[str, ...] = (
    "given_std",
    "given_canon",
    "given_skel",
    "given_groups",
    "family_std",
    "family_canon",
    "family_variant",
    "family_skel",
    "family_tokens",
)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _split_rows(texts: pd.Series) -> pd.DataFrame:
    parts = [split_full_name(t) for t in texts]
    return pd.DataFrame(
        {
            "given_raw": [p.given for p in parts],
            "family_raw": [p.family for p in parts],
        },
        index=texts.index,
        dtype=object,
    )


def name_forms(frame: pd.DataFrame) -> pd.DataFrame:
    """record_id, form number and raw given/family text for every name a record carries."""
    given, family, full = _col(frame, "given_names"), _col(frame, "family_name"), _col(
        frame, "full_name"
    )
    primary = pd.DataFrame({
        "record_id": frame["id"], "pos": np.arange(len(frame)), "form": 0,
        "given_raw": given, "family_raw": family,
    })
    use_full = family.isna() & full.notna()
    if use_full.any():
        split = _split_rows(full[use_full])
        primary.loc[use_full, ["given_raw", "family_raw"]] = split.values
    extra: list[pd.DataFrame] = []
    for column, offset in (("native_script_name", 1), ("aliases", 2)):
        values = _col(frame, column)
        present = values.notna()
        if not present.any():
            continue
        sub = pd.DataFrame({"record_id": frame["id"][present],
                            "pos": np.flatnonzero(present.to_numpy()), "text": values[present]})
        if column == "aliases":
            sub = sub.explode("text").dropna(subset=["text"])
            sub["form"] = offset + sub.groupby(level=0).cumcount()
        else:
            sub["form"] = offset
        split = _split_rows(sub["text"])
        extra.append(pd.concat([sub[["record_id", "pos", "form"]], split], axis=1))
    forms = pd.concat([primary, *extra], ignore_index=True)
    return forms[forms["given_raw"].notna() | forms["family_raw"].notna()].reset_index(drop=True)


def _map_features(raw: pd.Series, fn: object, attrs: tuple[str, ...]) -> dict[str, pd.Series]:
    distinct = {v: fn(v) for v in raw.dropna().unique()}  # type: ignore[operator]
    out: dict[str, pd.Series] = {}
    for attr in attrs:
        lookup = {k: getattr(f, attr) for k, f in distinct.items()}
        if attr in ("groups", "tokens"):  # DuckDB/Spark want lists, not tuples
            lookup = {k: list(v) if v else None for k, v in lookup.items()}
        series = raw.map(lookup)
        out[attr] = series.astype(object).where(series.notna(), None)
    return out


def dob_day_month_swapped(dob: pd.Series) -> pd.Series:
    """The date with day and month exchanged, where that is still a date (day <= 12)."""
    s = dob.astype("string")
    day = s.str.slice(8, 10)
    swapped = s.str.slice(0, 5) + day + "-" + s.str.slice(5, 7)
    ok = day.notna() & (day <= "12") & (day != s.str.slice(5, 7))
    return swapped.astype(object).where(ok, None)


def is_placeholder_date(dob: pd.Series) -> pd.Series:
    """1 January of any year and 1900-01-01: what clerks type when the date is unknown."""
    s = dob.astype("string")
    return (s.str.slice(5, 10).eq("01-01") | s.str.slice(0, 4).le("1901")).fillna(False
                                                                              ).astype(bool)


#: A given name seen at most this often in its table is an uncommon spelling (a typo is
#: one; a name in use recurs), see comparisons.given_name.
RARE_COUNT = 2

#: Form numbers of the swapped copies start here (see `with_swapped_forms`).
SWAPPED_FORM = 100


def with_swapped_forms(forms: pd.DataFrame) -> pd.DataFrame:
    """Add, for each form with both names, the same form with given and family name
    exchanged. Done on one side only (the registry), because a swap is symmetric."""
    both = forms[forms["given_raw"].notna() & forms["family_raw"].notna()]
    swapped = both.assign(given_raw=both["family_raw"], family_raw=both["given_raw"],
                          form=both["form"] + SWAPPED_FORM)
    return pd.concat([forms.assign(name_order="A"), swapped.assign(name_order="S")],
                     ignore_index=True)


def splink_input(frame: pd.DataFrame, fields: list[str], side: str = "r") -> pd.DataFrame:
    """One row per name form with the name keys and the given plain fields; `side`
    prefixes unique ids so a pair says which record came from the registry. The
    registry side ("r") also carries each name with given and family exchanged."""
    forms = name_forms(frame)
    forms = with_swapped_forms(forms) if side == "r" else forms.assign(name_order="A")
    given = _map_features(forms["given_raw"], given_features, ("std", "canon", "skel", "groups"))
    family = _map_features(
        forms["family_raw"], family_features, ("std", "canon", "variant", "skel", "tokens")
    )
    out = pd.DataFrame(
        {
            "unique_id": f"{side}:" + forms["form"].astype(str) + ":"
            + forms["record_id"].astype(str),
            "record_id": forms["record_id"],
            "name_order": forms["name_order"],
        }
    )
    for attr, series in given.items():
        out[f"given_{attr}"] = series
    for attr, series in family.items():
        out[f"family_{attr}"] = series
    counts = out["given_std"].map(out["given_std"].value_counts())
    out["given_rare"] = pd.Series("Y", index=out.index, dtype=object).where(
        counts.le(RARE_COUNT).fillna(False).astype(bool), None)
    pos = forms["pos"].to_numpy()
    for name in fields:
        out[name] = frame[name].to_numpy(dtype=object)[pos]
    if "dob" in fields:
        placeholder = is_placeholder_date(out["dob"])
        out["dob_ph"] = pd.Series("Y", index=out.index, dtype=object).where(placeholder, None)
        out["dob_block"] = out["dob"].where(~placeholder, None)
        out["dob_dm"] = dob_day_month_swapped(out["dob_block"])
        # blocking keys for common names (see comparisons.blocking_rules): the year, which a
        # 1 January placeholder still carries, and the month and day of a real date
        year = out["dob"].astype("string").str.slice(0, 4)
        out["dob_year"] = year.astype(object).where(year.gt("1901").fillna(False), None)
        out["dob_md"] = out["dob_block"].astype("string").str.slice(5, 10).astype(object)
        out["dob_md"] = out["dob_md"].where(out["dob_block"].notna(), None)
    return out


#: A name (given and family, by canonical form or by consonants) that more index records
#: than this carry is common: on its own it would pair each registrant of that name with
#: all of them, and the candidate pairs would grow with the square of the name's
#: frequency. Common names are blocked only together with a part of the date of birth
#: (see comparisons.blocking_rules); without one, so many namesakes leave a name, sex and
#: state far below the review floor anyway.
COMMON_NAME_RECORDS = 100

#: (flag column, name columns) of the name-only blocking keys.
NAME_KEYS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("name_uncommon", ("given_canon", "family_canon")),
    ("skel_uncommon", ("given_skel", "family_skel")),
)


def mark_common_names(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Flag, in place on both sides, the rows whose name keys are uncommon ("Y"): carried by
    at most COMMON_NAME_RECORDS rows of `right` (the index; the table itself when
    deduplicating). Both sides read the same counts, so a key has one flag everywhere."""
    for flag, cols in NAME_KEYS:
        counts = right.groupby(list(cols), dropna=True).size()
        for frame in (left, right) if left is not right else (left,):
            keys = pd.MultiIndex.from_frame(frame[list(cols)])
            n = counts.reindex(keys).to_numpy(dtype=float)  # NaN: not in the index at all
            uncommon = pd.Series(np.nan_to_num(n) <= COMMON_NAME_RECORDS, index=frame.index)
            frame[flag] = pd.Series("Y", index=frame.index, dtype=object).where(uncommon, None)


def shared_fields(left: pd.DataFrame, right: pd.DataFrame) -> list[str]:
    """Plain fields with at least one value on both sides: those are matched on."""

    def has(frame: pd.DataFrame, name: str) -> bool:
        return name in frame.columns and bool(frame[name].notna().any())

    return [f for f in PLAIN_FIELDS if has(left, f) and has(right, f)]


__all__ = ["NameParts", "PLAIN_FIELDS", "name_forms", "shared_fields", "splink_input"]
