"""Synthetic registrants and index records (Faker), with the true links, for tests,
demos and benchmarks. Never real people.

Index copies of registrants carry the variation real indices show: another
romanisation, native script only, nicknames, typing errors, swapped name order,
one of two surnames, an alias instead of the name, and date-of-birth slips.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from anyascii import anyascii
from faker import Faker

from cvis.linkage.names import variant_groups

LOCALES: dict[str, float] = {
    "en_US": 0.45, "es_MX": 0.2, "ru_RU": 0.08, "ar_AA": 0.08, "zh_CN": 0.06,
    "vi_VN": 0.05, "de_DE": 0.04, "fr_FR": 0.04,
}
NON_LATIN = {"ru_RU", "ar_AA", "zh_CN"}
STATES = ["CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "VA", "WA", "AZ"]
FACILITIES = ["North State Prison", "County Jail East", "Federal Correctional Unit 4",
              "River Valley Correctional", "Central Detention Center"]

INDEX_MAPPING = """\
# Mapping for the synthetic inmate index: its columns -> canonical person fields.
[fields]
id = "InmateNo"
given_names = "FirstName"
family_name = "LastName"
full_name = "NameAsBooked"
dob = { column = "BirthDate", format = "%m/%d/%Y" }
sex = "Gender"
national_id = "SSN"
state = "StateCode"

[attributes]
release_date = { column = "ProjectedRelease", format = "%Y-%m-%d" }
facility = "Facility"
"""

# Alternative romanisations: the same native name written another way.
_REWRITES = [("ks", "x"), ("iy", "y"), ("yu", "iu"), ("kh", "h"), ("ou", "u"), ("ee", "i"),
             ("zh", "j"), ("ts", "tz"), ("ya", "ia"), ("ch", "tch"), ("sh", "sch"), ("q", "k")]


@dataclass
class Pool:
    """Names of one locale: native form, standard romanisation, an alternative one."""

    male: list[tuple[str, str, str]]
    female: list[tuple[str, str, str]]
    family: list[tuple[str, str, str]]


def _romanise(native: str, alt: bool) -> str:
    latin = anyascii(native).replace("'", "").replace("`", "")
    if len(latin) > 1 and latin.isupper() is False and latin[1:].lower() != latin[1:]:
        latin = latin[0] + latin[1:].lower()  # CJK 'WangWei' -> 'Wangwei'
    if alt:
        low = latin.lower()
        for a, b in _REWRITES:
            if a in low:
                low = low.replace(a, b, 1)
                break
        latin = low.capitalize()
    return latin.strip()


def _pool(locale: str, size: int, seed: int) -> Pool:
    fake = Faker(locale)
    fake.seed_instance(seed)

    def names(fn: object) -> list[tuple[str, str, str]]:
        seen = {fn() for _ in range(size)}  # type: ignore[operator]
        return sorted((n, _romanise(n, False), _romanise(n, True)) for n in seen if n.strip())

    return Pool(names(fake.first_name_male), names(fake.first_name_female),
                names(fake.last_name))


def pools(seed: int = 7, size: int = 400) -> dict[str, Pool]:
    """Name pools per locale (a few hundred draws each; Faker is slow per call)."""
    return {loc: _pool(loc, size, seed + i) for i, loc in enumerate(LOCALES)}


@dataclass
class SyntheticData:
    """A registry, an index (in its own column names), its mapping and the true links."""

    registry: pd.DataFrame
    index: pd.DataFrame
    index_mapping: str
    true_links: set[tuple[str, str]]


def _people(rng: np.random.Generator, n: int, pool: dict[str, Pool]) -> pd.DataFrame:
    locs = rng.choice(list(LOCALES), size=n, p=np.array(list(LOCALES.values())))
    sex = rng.choice(["M", "F"], size=n)
    cols: dict[str, list[str]] = {k: [""] * n for k in
                                  ("g_native", "g1", "g2", "f_native", "f1", "f2")}
    for loc in LOCALES:
        for s in ("M", "F"):
            rows = np.flatnonzero((locs == loc) & (sex == s))
            given = pool[loc].male if s == "M" else pool[loc].female
            gi = rng.integers(0, len(given), size=len(rows))
            fi = rng.integers(0, len(pool[loc].family), size=len(rows))
            for r, g, f in zip(rows, gi, fi, strict=True):
                cols["g_native"][r], cols["g1"][r], cols["g2"][r] = given[g]
                cols["f_native"][r], cols["f1"][r], cols["f2"][r] = pool[loc].family[f]
    days = rng.integers(0, 365 * 60, size=n)
    dob = pd.to_datetime("1945-01-01") + pd.to_timedelta(days, unit="D")
    ssn = rng.integers(100_000_000, 899_999_999, size=n).astype(str)
    return pd.DataFrame({"locale": locs, "sex": sex, **cols, "dob": dob, "ssn": ssn,
                         "state": rng.choice(STATES, size=n)})


def _typo(rnd: random.Random, s: str) -> str:
    if len(s) < 3:
        return s
    i = rnd.randrange(1, len(s) - 1)
    op = rnd.randrange(3)
    if op == 0:
        return s[:i] + s[i + 1:]
    if op == 1:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    return s[:i] + rnd.choice("aeiourstnl") + s[i + 1:]


def _nickname(rnd: random.Random, given: str) -> str:
    groups = variant_groups()
    low = given.lower()
    if low not in groups:
        return given
    members = [n for n, keys in groups.items() if set(keys) & set(groups[low]) and n != low]
    return rnd.choice(members).capitalize() if members else given


def _dob_slip(rnd: random.Random, d: date) -> date:
    if d.day <= 12 and d.day != d.month and rnd.random() < 0.5:
        return date(d.year, d.day, d.month)
    text = d.strftime("%Y%m%d")
    i = rnd.choice([2, 3, 7])
    slipped = text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:]
    try:
        return date(int(slipped[:4]), int(slipped[4:6]), int(slipped[6:]))
    except ValueError:
        return d + timedelta(days=1)


def _registry(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(people)
    use_alt = rng.random(n) < 0.3
    given = np.where(use_alt, people.g2, people.g1)
    family = np.where(use_alt, people.f2, people.f1)
    hispanic = (people.locale == "es_MX").to_numpy() & (rng.random(n) < 0.5)
    second = people.f1.sample(frac=1.0, random_state=1).to_numpy()
    family = np.where(hispanic, family + " " + second, family)
    native = np.where(people.locale.isin(NON_LATIN), np.where(
        people.locale == "zh_CN", people.f_native + people.g_native,
        people.g_native + " " + people.f_native), None)
    has_alias = rng.random(n) < 0.15
    alias_src = people.sample(frac=1.0, random_state=2)
    aliases = np.where(has_alias, alias_src.g1.to_numpy() + " " + alias_src.f1.to_numpy(), None)
    return pd.DataFrame({
        "id": [f"R{i:07d}" for i in range(n)], "given_names": given, "family_name": family,
        "aliases": aliases, "dob": people.dob.dt.strftime("%Y-%m-%d"), "sex": people.sex,
        "native_script_name": native, "national_id": np.where(rng.random(n) < 0.6,
                                                              people.ssn, None),
        "state": people.state,
    })


def _copy(rnd: random.Random, reg: dict[str, object], person: dict[str, object]) -> dict:
    """An index record of a registrant, as another agency typed it."""
    given, family = str(reg["given_names"]), str(reg["family_name"])
    full: str | None = None
    if person["locale"] in NON_LATIN and rnd.random() < 0.5:
        given, family = str(person["g1"]), str(person["f1"])
        if given == reg["given_names"]:
            given, family = str(person["g2"]), str(person["f2"])
        if rnd.random() < 0.3:
            full, given, family = str(reg["native_script_name"]), "", ""
    if reg["aliases"] and rnd.random() < 0.5:
        given, _, family = str(reg["aliases"]).partition(" ")
    r = rnd.random()
    if given and r < 0.15:
        given = _nickname(rnd, given)
    elif given and r < 0.25:
        given = _typo(rnd, given)
    if family and rnd.random() < 0.12:
        family = _typo(rnd, family)
    if " " in family and rnd.random() < 0.5:
        family = family.split(" ")[rnd.randrange(2)]
    if given and rnd.random() < 0.05:
        given, family = family, given
    dob: date | None = date.fromisoformat(str(reg["dob"]))
    r = rnd.random()
    if dob and r < 0.08:
        dob = _dob_slip(rnd, dob)
    elif r < 0.1:
        dob = None
    ssn = reg["national_id"] if reg["national_id"] and rnd.random() < 0.6 else None
    return {"FirstName": given, "LastName": family, "NameAsBooked": full or "",
            "BirthDate": dob.strftime("%m/%d/%Y") if dob else "", "Gender": reg["sex"],
            "SSN": ssn or "", "StateCode": reg["state"]}


def generate(registrants: int, index_records: int, matched_share: float = 0.2,
             seed: int = 11, release_within_days: int = 730,
             pool_size: int = 400) -> SyntheticData:
    """`registrants` people, `index_records` index rows of which about `matched_share` of
    the registrants appear (once each), the rest unrelated people from the same names."""
    rng = np.random.default_rng(seed)
    rnd = random.Random(seed)
    pool = pools(seed, pool_size)
    people = _people(rng, registrants, pool)
    registry = _registry(people, rng)
    n_matched = min(int(registrants * matched_share), index_records)
    chosen = rng.choice(registrants, size=n_matched, replace=False)
    copies = [_copy(rnd, registry.iloc[i].to_dict(), people.iloc[i].to_dict()) for i in chosen]
    others = _people(rng, index_records - n_matched, pool)
    other_rows = pd.DataFrame({
        "FirstName": others.g1, "LastName": others.f1, "NameAsBooked": "",
        "BirthDate": others.dob.dt.strftime("%m/%d/%Y"), "Gender": others.sex,
        "SSN": np.where(rng.random(len(others)) < 0.4, others.ssn, ""),
        "StateCode": others.state,
    })
    index = pd.concat([pd.DataFrame(copies), other_rows], ignore_index=True)
    order = rng.permutation(len(index))
    index = index.iloc[order].reset_index(drop=True)
    index.insert(0, "InmateNo", [f"I{i:08d}" for i in range(len(index))])
    start = pd.Timestamp(date.today())
    index["ProjectedRelease"] = (start + pd.to_timedelta(
        rng.integers(0, release_within_days, size=len(index)), unit="D")).strftime("%Y-%m-%d")
    index["Facility"] = rng.choice(FACILITIES, size=len(index))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    truth = {(registry.id.iat[int(r)], index.InmateNo.iat[int(position[k])])
             for k, r in enumerate(chosen)}
    return SyntheticData(registry, index, INDEX_MAPPING, truth)
