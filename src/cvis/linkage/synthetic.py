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
    i = rnd.choice([3, 5, 7])  # year, month or day unit digit
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


# ---------------------------------------------------------------------------------------
# The hard benchmark: namesakes, skewed name frequencies, and labelled corruptions.
# ---------------------------------------------------------------------------------------

#: Cultures of the hard benchmark, their share of people and how skewed their family
#: names are (Zipf exponent: Vietnamese and Somali names concentrate on a few forms).
CULTURES: dict[str, tuple[float, float]] = {
    "en_US": (0.34, 0.9), "es_MX": (0.22, 1.0), "vi_VN": (0.10, 1.3), "so": (0.08, 1.2),
    "ar_AA": (0.08, 1.1), "ru_RU": (0.09, 0.9), "zh_CN": (0.09, 1.3),
}

# Somali names (public, benign name knowledge): father's name serves as the second name,
# so given and family names come from one pool; Somali orthography writes x and c.
_SOMALI_MALE = ["Mohamed", "Abdi", "Ahmed", "Hassan", "Ali", "Omar", "Abdullahi", "Yusuf",
                "Ibrahim", "Hussein", "Abdirahman", "Mahad", "Farah", "Ismail", "Osman",
                "Said", "Aden", "Warsame", "Jama", "Nur", "Hirsi", "Dirie", "Egal", "Samatar"]
_SOMALI_FEMALE = ["Fadumo", "Hodan", "Amina", "Asha", "Khadija", "Sahra", "Hawa", "Maryan",
                  "Ifrah", "Ubah", "Nimco", "Sagal", "Halima", "Ayaan", "Deeqa"]
_SOMALI_SPELLING = {"Mohamed": "Maxamed", "Ahmed": "Axmed", "Hassan": "Xasan", "Ali": "Cali",
                    "Omar": "Cumar", "Abdi": "Cabdi", "Abdullahi": "Cabdullaahi",
                    "Hussein": "Xuseen", "Abdirahman": "Cabdiraxmaan", "Yusuf": "Yuusuf",
                    "Ibrahim": "Ibraahim", "Osman": "Cismaan", "Ismail": "Ismaaciil",
                    "Fadumo": "Faadumo", "Halima": "Xaliimo", "Khadija": "Khadiija",
                    "Hawa": "Xaawa", "Asha": "Caasha", "Amina": "Aamina"}

#: What was done to an index copy of a registrant (recall is reported per type).
CORRUPTIONS = ("clean", "transliteration", "native script", "nickname", "alias", "swap",
               "name typo", "dob typo", "dob day/month", "placeholder dob", "missing dob",
               "one surname", "missing given name", "suffix")
#: Deliberate look-alikes that are other people (false positives are reported per type).
DECOYS = ("namesake other dob", "same-birthday sibling", "jr/sr", "namesake other state")


@dataclass
class NameBook:
    """Names of one culture, commonest first, with their sampling weights."""

    male: list[tuple[str, str, str]]  # (native, romanised, alternative romanisation)
    female: list[tuple[str, str, str]]
    family_male: list[tuple[str, str, str]]
    family_female: list[tuple[str, str, str]]
    skew: float

    def weights(self, n: int, skew: float | None = None) -> np.ndarray:
        w = 1.0 / np.arange(1, n + 1) ** (self.skew if skew is None else skew)
        return w / w.sum()


def _somali_book(skew: float) -> NameBook:
    def forms(names: list[str]) -> list[tuple[str, str, str]]:
        return [(n, n, _SOMALI_SPELLING.get(n, n)) for n in names]

    return NameBook(forms(_SOMALI_MALE), forms(_SOMALI_FEMALE), forms(_SOMALI_MALE),
                    forms(_SOMALI_MALE), skew)


def _faker_book(locale: str, skew: float, draws: int) -> NameBook:
    fake = Faker(locale)
    fake.seed_instance(1234)  # the name books do not depend on the benchmark seed

    def forms(fn: object) -> list[tuple[str, str, str]]:
        seen = sorted({fn() for _ in range(draws)})  # type: ignore[operator]
        return [(n, _romanise(n, False), _romanise(n, True)) for n in seen if n.strip()]

    male_family = getattr(fake, "last_name_male", fake.last_name)
    female_family = getattr(fake, "last_name_female", fake.last_name)
    return NameBook(forms(fake.first_name_male), forms(fake.first_name_female),
                    forms(male_family), forms(female_family), skew)


def name_books(draws: int = 1500) -> dict[str, NameBook]:
    """One book per culture; the order within a book (and so who is commonest) is fixed."""
    books = {}
    for culture, (_, skew) in CULTURES.items():
        book = _somali_book(skew) if culture == "so" else _faker_book(culture, skew, draws)
        shuffle = random.Random(f"book:{culture}")
        for names in (book.male, book.female, book.family_male, book.family_female):
            shuffle.shuffle(names)
        books[culture] = book
    return books


def _hard_people(rng: np.random.Generator, n: int, books: dict[str, NameBook]) -> pd.DataFrame:
    cultures = list(CULTURES)
    share = np.array([CULTURES[c][0] for c in cultures])
    culture = rng.choice(cultures, size=n, p=share / share.sum())
    sex = rng.choice(["M", "F"], size=n)
    cols: dict[str, np.ndarray] = {k: np.empty(n, dtype=object) for k in
                                   ("g_native", "g1", "g2", "f_native", "f1", "f2")}
    for c in cultures:
        book = books[c]
        for s in ("M", "F"):
            rows = np.flatnonzero((culture == c) & (sex == s))
            given = book.male if s == "M" else book.female
            family = book.family_male if s == "M" else book.family_female
            gi = rng.choice(len(given), size=len(rows), p=book.weights(len(given), 1.0))
            fi = rng.choice(len(family), size=len(rows), p=book.weights(len(family)))
            g, f = np.array(given, dtype=object), np.array(family, dtype=object)
            for j, key in enumerate(("g_native", "g1", "g2")):
                cols[key][rows] = g[gi, j]
            for j, key in enumerate(("f_native", "f1", "f2")):
                cols[key][rows] = f[fi, j]
    days = rng.integers(0, 365 * 55, size=n)
    dob = (pd.Timestamp("1950-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    return pd.DataFrame({"culture": culture, "sex": sex, **cols, "dob": np.asarray(dob),
                         "ssn": rng.integers(100_000_000, 899_999_999, size=n).astype(str),
                         "state": rng.choice(STATES, size=n)})


def _hard_registry(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(people)
    given, family = people.g1.to_numpy(), people.f1.to_numpy().copy()
    hispanic = (people.culture == "es_MX").to_numpy() & (rng.random(n) < 0.5)
    second = people.f1[people.culture == "es_MX"].to_numpy()
    if len(second):
        family[hispanic] = family[hispanic] + " " + rng.choice(second, size=int(hispanic.sum()))
    native = np.where(people.culture.isin(["ru_RU", "ar_AA", "zh_CN"]), np.where(
        people.culture == "zh_CN", people.f_native + people.g_native,
        people.g_native + " " + people.f_native), None)
    has_alias = rng.random(n) < 0.12
    donor = people.sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
    aliases = np.where(has_alias, donor.g1.to_numpy() + " " + donor.f1.to_numpy(), None)
    suffix = rng.random(n) < 0.03
    family_out = np.where(suffix & (people.culture == "en_US"), family + " Jr", family)
    return pd.DataFrame({
        "id": [f"R{i:07d}" for i in range(n)], "given_names": given,
        "family_name": family_out, "aliases": aliases, "dob": people.dob, "sex": people.sex,
        "native_script_name": native,
        "national_id": np.where(rng.random(n) < 0.35, people.ssn, None),
        "state": people.state,
    })


def _placeholder(rnd: random.Random, dob: str) -> str:
    return "1900-01-01" if rnd.random() < 0.4 else dob[:4] + "-01-01"


def _hard_copy(rnd: random.Random, kind: str, reg: dict, person: dict) -> dict:
    """An index record of a registrant carrying one labelled corruption."""
    given, family = str(reg["given_names"]), str(reg["family_name"]).removesuffix(" Jr")
    full, dob = "", str(reg["dob"])
    if kind == "transliteration":
        given, family = str(person["g2"]), str(person["f2"])
    elif kind == "native script":
        if reg["native_script_name"]:
            full, given, family = str(reg["native_script_name"]), "", ""
        else:
            given, family = str(person["g2"]), str(person["f2"])
    elif kind == "nickname":
        given = _nickname(rnd, given)
    elif kind == "alias" and reg["aliases"]:
        given, _, family = str(reg["aliases"]).partition(" ")
    elif kind == "swap":
        given, family = family, given
    elif kind == "name typo":
        if rnd.random() < 0.5:
            given = _typo(rnd, given)
        else:
            family = _typo(rnd, family)
    elif kind == "dob typo":
        dob = _dob_slip(rnd, date.fromisoformat(dob)).isoformat()
        if dob[5:7] == str(reg["dob"])[8:10] and dob[8:10] == str(reg["dob"])[5:7]:
            dob = (date.fromisoformat(str(reg["dob"])) + timedelta(days=10)).isoformat()
    elif kind == "dob day/month":
        d = date.fromisoformat(dob)
        dob = date(d.year, d.day, d.month).isoformat() if d.day <= 12 else dob
    elif kind == "placeholder dob":
        dob = _placeholder(rnd, dob)
    elif kind == "missing dob":
        dob = ""
    elif kind == "one surname" and " " in family:
        family = family.split(" ")[rnd.randrange(2)]
    elif kind == "missing given name":
        given = ""
    elif kind == "suffix":
        family = family + rnd.choice([" Jr", " Sr", " II"])
    return {"FirstName": given, "LastName": family, "NameAsBooked": full,
            "BirthDate": _us_date(dob), "Gender": reg["sex"],
            "SSN": reg["national_id"] if reg["national_id"] and rnd.random() < 0.5 else "",
            "StateCode": reg["state"] if rnd.random() < 0.8 else rnd.choice(STATES)}


def _us_date(iso: str) -> str:
    return f"{iso[5:7]}/{iso[8:10]}/{iso[:4]}" if iso else ""


def _decoy(rnd: random.Random, kind: str, reg: dict, person: dict, books: dict[str, NameBook]
           ) -> dict:
    """Another person who looks like the registrant."""
    given, family = str(reg["given_names"]), str(reg["family_name"]).removesuffix(" Jr")
    dob = date.fromisoformat(str(reg["dob"]))
    state, sex = str(reg["state"]), str(reg["sex"])
    if kind == "namesake other dob":
        years = rnd.choice([-1, 1]) * rnd.randint(2, 30)
        dob = date(min(max(dob.year + years, 1930), 2006), rnd.randint(1, 12), rnd.randint(1, 28))
        state = rnd.choice(STATES)
    elif kind == "same-birthday sibling":
        book = books[str(person["culture"])]
        pool = book.male if rnd.random() < 0.5 else book.female
        others = [g[1] for g in pool if g[1] != given]
        given = rnd.choice(others) if others else given + "a"
        sex = "M" if pool is book.male else "F"
    elif kind == "jr/sr":
        years = rnd.choice([-1, 1]) * rnd.randint(20, 35)
        dob = date(min(max(dob.year + years, 1930), 2006), rnd.randint(1, 12), rnd.randint(1, 28))
        family = family + (" Sr" if years < 0 else " Jr")
    elif kind == "namesake other state":
        years = rnd.choice([-1, 1]) * rnd.randint(1, 15)
        dob = date(min(max(dob.year + years, 1930), 2006), rnd.randint(1, 12), rnd.randint(1, 28))
        state = rnd.choice([s for s in STATES if s != state])
    return {"FirstName": given, "LastName": family, "NameAsBooked": "",
            "BirthDate": dob.strftime("%m/%d/%Y"), "Gender": sex, "SSN": "",
            "StateCode": state}


@dataclass
class HardData(SyntheticData):
    """SyntheticData plus labels: each true link's corruption, each decoy's kind."""

    corruption: dict[tuple[str, str], str]
    decoy: dict[str, str]  # index record id -> decoy kind


def _pick_corruption(rnd: random.Random, reg: dict, person: dict) -> str:
    kinds = list(CORRUPTIONS)
    weights = [30, 8, 4, 6, 4, 4, 8, 5, 4, 5, 4, 4, 3, 2]
    while True:
        kind = rnd.choices(kinds, weights)[0]
        if kind == "alias" and not reg["aliases"]:
            continue
        if kind == "one surname" and " " not in str(reg["family_name"]).removesuffix(" Jr"):
            continue
        if kind == "native script" and person["culture"] not in ("ru_RU", "ar_AA", "zh_CN"):
            continue
        if kind == "transliteration" and (person["culture"] in ("en_US", "es_MX")
                                          or person["g2"] == reg["given_names"]
                                          and person["f2"] == reg["family_name"]):
            continue
        if kind == "nickname" and _nickname(rnd, str(reg["given_names"])) == reg["given_names"]:
            continue
        if kind == "dob day/month" and int(str(reg["dob"])[8:10]) > 12:
            continue
        return kind


def generate_hard(registrants: int, index_records: int, seed: int = 1,
                  matched_share: float = 0.3, decoy_share: float = 0.12,
                  books: dict[str, NameBook] | None = None) -> HardData:
    """The hard benchmark: a registry and an inmate-style index over seven cultures with
    skewed name frequencies. About `matched_share` of registrants appear in the index
    one to three times, each copy with a labelled corruption; about `decoy_share` have a
    look-alike decoy; the rest of the index is ordinary people from the same name books
    (so common names recur by the hundred, with placeholder and missing dates)."""
    rng, rnd = np.random.default_rng(seed), random.Random(seed)
    books = books or name_books()
    people = _hard_people(rng, registrants, books)
    registry = _hard_registry(people, rng)
    reg_rows, person_rows = registry.to_dict("records"), people.to_dict("records")
    rows: list[dict] = []
    kinds: list[str] = []
    owners: list[str] = []  # registrant id (true copy) or "" (ordinary / decoy)
    decoy_kind: list[str] = []
    for i in rng.choice(registrants, size=int(registrants * matched_share), replace=False):
        for _ in range(rnd.choices([1, 2, 3], [70, 20, 10])[0]):
            kind = _pick_corruption(rnd, reg_rows[i], person_rows[i])
            rows.append(_hard_copy(rnd, kind, reg_rows[i], person_rows[i]))
            kinds.append(kind)
            owners.append(reg_rows[i]["id"])
            decoy_kind.append("")
    for i in rng.choice(registrants, size=int(registrants * decoy_share), replace=False):
        kind = rnd.choice(DECOYS)
        rows.append(_decoy(rnd, kind, reg_rows[i], person_rows[i], books))
        kinds.append("")
        owners.append("")
        decoy_kind.append(kind)
    n_other = max(index_records - len(rows), 0)
    others = _hard_people(rng, n_other, books)
    dob = others.dob.to_numpy().copy()
    placeholder = rng.random(n_other) < 0.02
    dob[placeholder] = np.where(rng.random(int(placeholder.sum())) < 0.5, "1900-01-01",
                                pd.Series(dob[placeholder]).str.slice(0, 4) + "-01-01")
    dob[rng.random(n_other) < 0.03] = ""
    ordinary = pd.DataFrame({
        "FirstName": others.g1, "LastName": others.f1, "NameAsBooked": "",
        "BirthDate": [_us_date(d) for d in dob], "Gender": others.sex,
        "SSN": np.where(rng.random(n_other) < 0.3, others.ssn, ""), "StateCode": others.state,
    })
    index = pd.concat([pd.DataFrame(rows), ordinary], ignore_index=True)
    kinds += [""] * n_other
    owners += [""] * n_other
    decoy_kind += [""] * n_other
    order = rng.permutation(len(index))
    index = index.iloc[order].reset_index(drop=True)
    ids = np.array([f"I{k:08d}" for k in range(len(index))], dtype=object)
    index.insert(0, "InmateNo", ids)
    index["ProjectedRelease"] = (pd.Timestamp("2027-01-01") + pd.to_timedelta(
        rng.integers(0, 730, size=len(index)), unit="D")).strftime("%Y-%m-%d")
    index["Facility"] = rng.choice(FACILITIES, size=len(index))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    truth, corruption, decoys = set(), {}, {}
    for k in range(len(owners)):
        rid = str(ids[position[k]])
        if owners[k]:
            truth.add((owners[k], rid))
            corruption[(owners[k], rid)] = kinds[k]
        elif decoy_kind[k]:
            decoys[rid] = decoy_kind[k]
    return HardData(registry, index, INDEX_MAPPING, truth, corruption, decoys)
