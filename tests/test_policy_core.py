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


def test_the_set_rule_by_grant() -> None:
    """Owner: all; match-only grant: read and match, metadata hidden, write refused openly;
    no grant on a shared set: hidden; open set: read, match, metadata, export, not write."""
    from cvis.accounts.roles import ROLES
    from cvis.hashsets.access import shape_matches

    admin = Actor("a", "A", "admin", ROLES["admin"])
    shared = Resource("set", "s", "B", {"access": {"B": (True, True), "A": (True, False)}})
    private = Resource("set", "p", "B", {"access": {"B": (True, True)}})
    public = Resource("set", "o", "B", {"access": {}})
    mine = Resource("set", "m", "A", {"access": {"A": (True, True)}})
    answers = {
        (res.id, right): (d.allowed, d.hide)
        for res in (shared, private, public, mine)
        for right in ("sets:match", "sets:metadata", "sets:export", "sets:write")
        for d in [policy.decide(admin, right, res)]
    }
    assert answers[("s", "sets:match")] == (True, False)
    assert answers[("s", "sets:metadata")] == answers[("s", "sets:export")] == (False, True)
    assert answers[("s", "sets:write")] == (False, False)
    assert all(answers[("p", r)] == (False, True) for r in ("sets:match", "sets:write"))
    assert answers[("o", "sets:export")] == (True, False)
    assert answers[("o", "sets:write")] == (False, False)
    assert all(answers[("m", r)][0] for r in ("sets:match", "sets:write", "sets:export"))
    match = {"set": "s", "media_id": "1", "signal": "md5", "distance": 0, "category": 1,
             "series": "x", "victim_identified": True}
    (shaped,) = shape_matches([match], {"s": False})
    assert shaped["series"] is None and shaped["media_id"] == "1"
    assert shape_matches([match], {"other": True}) == []
    assert shape_matches([match], {"s": True}, {("s", "1", "md5")}) == []
