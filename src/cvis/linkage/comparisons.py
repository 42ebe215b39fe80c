"""The Splink comparisons and blocking rules cvis uses, built from the shared fields.

Each comparison keeps the labels of its levels so a link can say which fields
agreed and how ("family_name: double surname") without reading Splink internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink.internals.comparison_level_creator import ComparisonLevelCreator


@dataclass(frozen=True)
class ComparisonSpec:
    """A named comparison: its non-null levels, best first, with their labels."""

    name: str
    column: str
    levels: tuple[tuple[str, ComparisonLevelCreator], ...]

    def to_splink(self) -> cl.CustomComparison:
        levels: list[ComparisonLevelCreator | dict[str, Any]] = [cll.NullLevel(self.column)]
        levels += [lvl for _, lvl in self.levels]
        return cl.CustomComparison(
            comparison_levels=levels, output_column_name=self.name
        )

    def label(self, gamma: int) -> str:
        """Label of a comparison-vector value (-1 missing, 0 disagree, higher = closer)."""
        if gamma < 0:
            return "missing"
        return self.levels[len(self.levels) - 1 - gamma][0]


def _else() -> tuple[str, ComparisonLevelCreator]:
    return ("different", cll.ElseLevel())


def given_name() -> ComparisonSpec:
    return ComparisonSpec("given_name", "given_std", (
        ("exact", cll.ExactMatchLevel("given_std", term_frequency_adjustments=True)),
        ("variant or nickname", cll.ArrayIntersectLevel("given_groups", 1)),
        ("same consonants", cll.ExactMatchLevel("given_skel", term_frequency_adjustments=True)),
        # one slip of the keyboard where one side's spelling is not a name in use (it occurs
        # at most RARE_COUNT times in its table): Amrer for Amber is a typo, but Dung for
        # Tung is another name, and with the same birthday possibly a twin (see assign.py)
        ("one typo, uncommon spelling", cll.And(
            cll.DamerauLevenshteinLevel("given_std", 1),
            cll.CustomLevel("(given_rare_l = 'Y' OR given_rare_r = 'Y')"))),
        ("close spelling", cll.JaroWinklerLevel("given_std", 0.92)),
        ("similar spelling", cll.JaroWinklerLevel("given_std", 0.8)),
        _else(),
    ))


def family_name() -> ComparisonSpec:
    return ComparisonSpec("family_name", "family_std", (
        ("exact", cll.ExactMatchLevel("family_std", term_frequency_adjustments=True)),
        ("variant", cll.ExactMatchLevel("family_variant")),
        ("same consonants", cll.ExactMatchLevel("family_skel", term_frequency_adjustments=True)),
        ("close spelling", cll.JaroWinklerLevel("family_std", 0.92)),
        ("double surname", cll.ArrayIntersectLevel("family_tokens", 1)),
        ("similar spelling", cll.JaroWinklerLevel("family_std", 0.8)),
        _else(),
    ))


PLACEHOLDER_SQL = "(dob_ph_l = 'Y' OR dob_ph_r = 'Y')"
#: Neither date is 1900-01-01 (or earlier): a 1 January placeholder still says the year.
BOTH_YEARS_KNOWN = "substr(dob_l, 1, 4) > '1901' AND substr(dob_r, 1, 4) > '1901'"
SAME_DECADE = "substr(dob_l, 1, 3) = substr(dob_r, 1, 3)"


def dob() -> ComparisonSpec:
    """Date of birth. Placeholder dates (1 January, 1900-01-01) come first so that they
    weigh little whatever they meet; a date that disagrees by more than two characters is
    strong evidence of two people (its m is fixed from labelled data, see calibration.py).
    A 1 January placeholder keeps its year: the same year is evidence, another year is
    read as the date it is (a date years apart); 1900-01-01 says next to nothing."""
    return ComparisonSpec("dob", "dob", (
        ("placeholder date, same year", cll.CustomLevel(
            f"{PLACEHOLDER_SQL} AND substr(dob_l, 1, 4) = substr(dob_r, 1, 4)",
            "placeholder, same year")),
        # the year unknown (1900-01-01); a 1 January of another year falls through to the
        # levels below and is read as the date it is, usually "different"
        ("placeholder date", cll.CustomLevel(f"{PLACEHOLDER_SQL} AND NOT ({BOTH_YEARS_KNOWN})",
                                             "placeholder")),
        ("exact", cll.ExactMatchLevel("dob")),
        ("day and month swapped", cll.CustomLevel("dob_dm_l = dob_r", "day/month swapped")),
        # a slip within the decade; a changed decade or century digit is years apart
        ("one typo", cll.CustomLevel(f"{SAME_DECADE} AND levenshtein(dob_l, dob_r) <= 1",
                                     "one typo")),
        ("two typos", cll.CustomLevel(f"{SAME_DECADE} AND levenshtein(dob_l, dob_r) <= 2",
                                      "two typos")),
        _else(),
    ))


def name_order() -> ComparisonSpec:
    """Whether the names compared are as written or with given and family name exchanged
    (the registry side carries both forms; see features.py). A swap is then scored by the
    name comparisons themselves, term frequencies included, and costs this level's weight."""
    return ComparisonSpec("name_order", "name_order", (
        ("as written", cll.CustomLevel("name_order_l = name_order_r", "as written")),
        ("given and family swapped", cll.ElseLevel()),
    ))


def identifier(name: str) -> ComparisonSpec:
    return ComparisonSpec(name, name, (
        ("exact", cll.ExactMatchLevel(name)),
        ("one typo", cll.LevenshteinLevel(name, 1)),
        ("two typos", cll.LevenshteinLevel(name, 2)),
        _else(),
    ))


def text(name: str, tf: bool) -> ComparisonSpec:
    return ComparisonSpec(name, name, (
        ("exact", cll.ExactMatchLevel(name, term_frequency_adjustments=tf)),
        ("close spelling", cll.JaroWinklerLevel(name, 0.9)),
        ("similar spelling", cll.JaroWinklerLevel(name, 0.7)),
        _else(),
    ))


def code(name: str) -> ComparisonSpec:
    return ComparisonSpec(name, name, (("exact", cll.ExactMatchLevel(name)), _else()))


def build(fields: list[str],
          fixed_m: Mapping[str, Mapping[str, float]] | None = None) -> list[ComparisonSpec]:
    """Comparisons for the names plus every plain field both sides carry; `fixed_m`
    (comparison -> level label -> m) fixes those levels' m-probabilities for EM."""
    specs = [given_name(), family_name(), name_order()]
    for f in fields:
        if f == "dob":
            specs.append(dob())
        elif f in ("national_id", "postcode"):
            specs.append(identifier(f))
        elif f in ("address", "city"):
            specs.append(text(f, tf=True))
        else:
            specs.append(code(f))
    for spec in specs:
        known = (fixed_m or {}).get(spec.name, {})
        if all(label in known for label, _ in spec.levels):
            for label, level in spec.levels:
                level.configure(m_probability=known[label], fix_m_probability=True)
    return specs


def blocking_rules(fields: list[str]) -> list[str]:
    """Candidate-pair rules: names with variants, names by consonants, DOB with a name,
    swapped names, shared identifiers. Each is cheap on its own; together they catch
    a typo in any one of name or date.

    With a date of birth, a name alone blocks only when it is uncommon (the flags of
    features.mark_common_names); a common name blocks together with the year of birth
    (a slip in day or month, a 1 January placeholder) or with month and day (a slip in
    the year), so that the candidate pairs grow about linearly with the tables, not with
    the square of the commonest names' frequencies."""
    canon = "l.given_canon = r.given_canon AND l.family_canon = r.family_canon"
    skel = "l.given_skel = r.given_skel AND l.family_skel = r.family_skel"
    if "dob" not in fields:
        rules = [canon, skel]
    else:
        rules = [
            f"{canon} AND l.name_uncommon = 'Y'",
            f"{skel} AND l.skel_uncommon = 'Y'",
            f"{canon} AND l.dob_year = r.dob_year",
            f"{canon} AND l.dob_md = r.dob_md",
            f"{skel} AND l.dob_year = r.dob_year",
            f"{skel} AND l.dob_md = r.dob_md",
            "l.dob_block = r.dob_block AND l.given_canon = r.given_canon",
            "l.dob_block = r.dob_block AND l.family_skel = r.family_skel",
            "l.dob_dm = r.dob_block AND l.family_skel = r.family_skel",
        ]
        if "postcode" in fields:
            rules.append("l.dob_block = r.dob_block AND l.postcode = r.postcode")
    if "national_id" in fields:
        rules.append("l.national_id = r.national_id")
    return rules


def training_rules(fields: list[str]) -> list[str]:
    """EM passes. Names and date of birth have m fixed from labelled data (EM among
    namesakes would learn that dates of birth do not matter), so one pass blocked on a
    real date of birth estimates the rest; without a date, a pass blocked on names."""
    if "dob" in fields:
        return ["l.dob_block = r.dob_block"]
    if "national_id" in fields:
        return ["l.national_id = r.national_id"]
    return ["l.given_canon = r.given_canon AND l.family_canon = r.family_canon"]


def deterministic_rules(fields: list[str]) -> list[str]:
    """Near-certain matches, used only to estimate the prior match probability."""
    if "dob" in fields:
        return ["l.given_canon = r.given_canon AND l.family_canon = r.family_canon "
                "AND l.dob_block = r.dob_block"]
    if "national_id" in fields:
        return ["l.national_id = r.national_id"]
    return ["l.given_std = r.given_std AND l.family_std = r.family_std"]
