"""Name normalisation Splink lacks: transliteration, variant groups, skeletons, name order.

Every function here works on one string and is cached, because a registry repeats
the same names many times; callers map distinct values, not rows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from anyascii import anyascii

#: Family-name particles that sources keep or drop at will ("de la Cruz", "Al-Rashid").
PARTICLES = frozenset(
    {"de", "del", "la", "las", "los", "y", "e", "i", "van", "von", "der", "den", "da", "di",
     "do", "dos", "das", "du", "le", "al", "el", "bin", "ibn", "bint", "ben", "abu", "mc"}
)
_VOWELS = re.compile(r"[aeiouy]")
_REPEATS = re.compile(r"(.)\1+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NON_LETTERS = re.compile(r"[^a-z]+")


@cache
def variant_groups() -> dict[str, tuple[str, ...]]:
    """Name -> keys of every variant group it belongs to (a name may be in several)."""
    text = resources.files("cvis.linkage").joinpath("data/name_variants.csv").read_text("utf-8")
    groups: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        names = [n.strip() for n in line.split(",") if n.strip()]
        for name in names:
            keys = groups.setdefault(name, [])
            if names[0] not in keys:
                keys.append(names[0])
    return {k: tuple(v) for k, v in groups.items()}


def _is_east_asian(text: str) -> bool:
    """CJK and Hangul names are written family name first."""
    return any(
        unicodedata.name(ch, "").startswith(("CJK UNIFIED", "HANGUL")) for ch in text
    )


@lru_cache(maxsize=1 << 20)
def latin_tokens(text: str) -> tuple[str, ...]:
    """Lower-case ASCII tokens of any script (Arabic, Cyrillic, CJK ...)."""
    latin = anyascii(text)
    latin = _CAMEL.sub(" ", latin)  # anyascii joins CJK syllables as "WangWei"
    return tuple(t for t in _NON_LETTERS.split(latin.lower()) if t)


@lru_cache(maxsize=1 << 20)
def skeleton(token: str) -> str:
    """Consonant skeleton: Mohammed, Muhammad and Arabic-script mhmd all give 'mhmd'."""
    s = token.replace("ph", "f").replace("ck", "k").replace("q", "k").replace("w", "v")
    s = s.replace("x", "ks").replace("c", "k")
    return _REPEATS.sub(r"\1", _VOWELS.sub("", s)) or token


def groups_of(token: str) -> tuple[str, ...]:
    """Variant-group keys of a name, or the name itself when it is in no group."""
    return variant_groups().get(token, (token,))


def canonical(token: str) -> str:
    """One key per name, for blocking (the first group it belongs to)."""
    return groups_of(token)[0]


@dataclass(frozen=True)
class NameParts:
    """A name split into given, middle and family parts (raw text, any script)."""

    given: str | None
    middle: str | None
    family: str | None


def split_full_name(text: str) -> NameParts:
    """Split a one-field name: "FAMILY, Given", CJK family-first, else given ... family."""
    if "," in text:
        family, _, rest = text.partition(",")
        toks = rest.split()
        return NameParts(toks[0] if toks else None, " ".join(toks[1:]) or None, family.strip())
    if _is_east_asian(text):
        toks = list(latin_tokens(text))
        if len(toks) < 2:
            return NameParts(None, None, " ".join(toks) or None)
        return NameParts("".join(toks[1:]), None, toks[0])
    toks = text.split()
    if len(toks) == 1:
        return NameParts(None, None, toks[0])
    return NameParts(toks[0], " ".join(toks[1:-1]) or None, toks[-1])


@dataclass(frozen=True)
class GivenFeatures:
    """What matching uses from a given name."""

    std: str | None
    canon: str | None
    skel: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True)
class FamilyFeatures:
    """What matching uses from a family name (double surnames keep every token)."""

    std: str | None
    canon: str | None  # first surname's group key, for blocking
    variant: str | None  # every surname's group key, for comparing
    skel: str | None
    tokens: tuple[str, ...]


@lru_cache(maxsize=1 << 20)
def given_features(text: str | None) -> GivenFeatures:
    """First given name, transliterated; later given names are treated as middle names."""
    toks = latin_tokens(text) if text else ()
    if not toks:
        return GivenFeatures(None, None, None, ())
    first = toks[0]
    return GivenFeatures(first, canonical(first), skeleton(first), groups_of(first))


@lru_cache(maxsize=1 << 20)
def family_features(text: str | None) -> FamilyFeatures:
    """Family name tokens without particles; 'Garcia Lopez' keeps both surnames."""
    toks = latin_tokens(text) if text else ()
    kept = tuple(t for t in toks if t not in PARTICLES) or toks
    if not kept:
        return FamilyFeatures(None, None, None, None, ())
    std = " ".join(kept)
    variant = " ".join(canonical(t) for t in kept)
    return FamilyFeatures(
        std, canonical(kept[0]), variant, skeleton("".join(kept)), tuple(sorted(kept))
    )
