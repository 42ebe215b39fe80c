"""The policy core: deny by default, rules per kind, hidden refusals."""

import pytest

from cvis import policy
from cvis.policy import Actor, Decision, Resource


def _actor(agency: str = "A", rights: frozenset[str] = frozenset({"read"})) -> Actor:
    return Actor("ana", agency, "examiner", rights)


def test_a_kind_without_rules_is_refused_and_hidden() -> None:
    decision = policy.decide(_actor(), "read", Resource("no-such-kind", 1, "A"))
    assert not decision.allowed and decision.hide


def test_a_right_the_role_lacks_is_refused_before_any_rule() -> None:
    policy.rule("test-thing")(lambda actor, right, res: Decision.allow("always"))
    assert not policy.decide(_actor(), "write", Resource("test-thing", 1, "A")).allowed
    assert policy.decide(_actor(), "read", Resource("test-thing", 1, "A")).allowed


def test_require_raises_not_visible_for_hidden_refusals() -> None:
    policy.rule("test-owned")(policy.same_agency)
    policy.require(_actor("A"), "read", Resource("test-owned", 1, "A"))
    with pytest.raises(policy.NotVisible):
        policy.require(_actor("B"), "read", Resource("test-owned", 1, "A"))
