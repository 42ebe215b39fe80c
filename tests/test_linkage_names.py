"""Name normalisation: transliteration, variant groups, skeletons, name order."""

from __future__ import annotations

import pytest

from cvis.linkage.names import (
    family_features,
    given_features,
    groups_of,
    latin_tokens,
    skeleton,
    split_full_name,
)


def test_cyrillic_is_transliterated_and_grouped_with_english_form() -> None:
    assert latin_tokens("Александр") == ("aleksandr",)
    assert set(groups_of("aleksandr")) & set(groups_of("alexander"))
    assert set(groups_of("sasha")) & set(groups_of("alexander"))


@pytest.mark.parametrize("a,b", [("william", "bill"), ("robert", "bob"),
                                 ("muhammad", "mohamed"), ("mohammed", "mehmet"),
                                 ("yuri", "george"), ("katherine", "katya")])
def test_nicknames_and_romanisations_share_a_group(a: str, b: str) -> None:
    assert set(groups_of(a)) & set(groups_of(b))


def test_unrelated_names_do_not_share_a_group() -> None:
    assert not set(groups_of("william")) & set(groups_of("robert"))


def test_arabic_script_and_romanisations_share_a_consonant_skeleton() -> None:
    arabic = "".join(latin_tokens("محمد"))
    assert skeleton(arabic) == skeleton("muhammad") == skeleton("mohammed") == "mhmd"


def test_chinese_names_are_family_name_first() -> None:
    parts = split_full_name("王伟")
    assert (parts.family, parts.given) == ("wang", "wei")


def test_comma_form_puts_family_name_first() -> None:
    parts = split_full_name("Lopez Garcia, Maria Elena")
    assert (parts.given, parts.middle, parts.family) == ("Maria", "Elena", "Lopez Garcia")


def test_double_surname_keeps_both_tokens_and_drops_particles() -> None:
    f = family_features("García-López de la Cruz")
    assert f.tokens == ("cruz", "garcia", "lopez")
    assert f.std == "garcia lopez cruz"
    assert family_features("Al-Rashid").std == "rashid"


def test_given_features_take_first_given_name() -> None:
    g = given_features("Bill Henry")
    assert g.std == "bill" and "william" in g.groups
