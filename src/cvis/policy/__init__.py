"""Need-to-know, decided in one place: may this actor do this to this resource?

Every edge (CLI, HTTP API, web pages) and every service that reads shared data
(the matcher included) asks ``require(actor, right, resource)`` or ``decide(...)``;
none decides by itself. Each subsystem adds the rules for its own resource kinds
with ``@rule("kind")`` in its own ``access.py`` (as datasette plug-ins add
permission checks), and the answer carries the reason for the audit record.

Deny by default: a right the actor's role does not hold, a resource kind with no
rule, or rules that all abstain, are refusals. A refusal whose ``hide`` is set
must be answered as "not found" (HTTP 404), because the resource's existence is
itself need-to-know.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class Actor:
    """Who is asking: an authenticated identity of one agency, with its rights."""

    name: str
    agency: str
    role: str
    rights: frozenset[str]
    purpose: str = ""
    interactive: bool = True
    claimed: str = ""  # a name the caller claimed (CLI --examiner, CVIS_USER), kept beside
    client: str = ""  # from where: the caller's address, or cli@host for a local operator

    def holds(self, right: str) -> bool:
        return right in self.rights


@dataclass(frozen=True)
class Resource:
    """What is asked about: a kind ("set", "case", "lead", ...), its id and owning agency."""

    kind: str
    id: str | int | None = None
    agency: str = ""
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    hide: bool = False  # answer a refusal as "not found"

    @classmethod
    def allow(cls, reason: str) -> Decision:
        return cls(True, reason)

    @classmethod
    def deny(cls, reason: str, *, hide: bool = False) -> Decision:
        return cls(False, reason, hide)


class AccessDenied(PermissionError):
    """Refused; ``decision.reason`` says why (for the audit record and the user)."""

    def __init__(self, decision: Decision, right: str, resource: Resource) -> None:
        super().__init__(decision.reason)
        self.decision, self.right, self.resource = decision, right, resource


class NotVisible(AccessDenied, LookupError):
    """Refused where saying so would tell that the resource exists: render as not found."""


Rule = Callable[[Actor, str, Resource], Decision | None]
_RULES: dict[str, list[Rule]] = {}


def rule(kind: str) -> Callable[[Rule], Rule]:
    """Register a rule for a resource kind; a rule returns a Decision or None to abstain."""

    def register(fn: Rule) -> Rule:
        _RULES.setdefault(kind, []).append(fn)
        return fn

    return register


_loaded = False


def _load_builtin_rules() -> None:
    global _loaded
    if not _loaded:
        import importlib

        from cvis.policy.builtin import RULE_MODULES

        for name in RULE_MODULES:
            importlib.import_module(name)
        _loaded = True


def decide(actor: Actor, right: str, resource: Resource) -> Decision:
    """The one answer to "may this actor do this to this resource", with its reason."""
    _load_builtin_rules()
    if not actor.holds(right):
        return Decision.deny(f"role {actor.role!r} does not hold {right!r}")
    for check in _RULES.get(resource.kind, ()):
        decision = check(actor, right, resource)
        if decision is not None:
            return decision
    return Decision.deny(f"no rule allows {right!r} on a {resource.kind}", hide=True)


def require(actor: Actor, right: str, resource: Resource) -> Decision:
    """``decide``, raising AccessDenied (or NotVisible) on a refusal."""
    decision = decide(actor, right, resource)
    if not decision.allowed:
        error = NotVisible if decision.hide else AccessDenied
        raise error(decision, right, resource)
    return decision


def permitted(
    actor: Actor, right: str, resources: Iterable[R], to_resource: Callable[[R], Resource]
) -> list[R]:
    """The items whose resource this actor may exercise ``right`` on (listing, filtering)."""
    return [item for item in resources if decide(actor, right, to_resource(item)).allowed]


def local_operator(actor: Actor, right: str, resource: Resource) -> Decision | None:
    """The CLI on the machine that holds the store acts for the deployment."""
    from cvis.policy.actors import LOCAL_OPERATOR_ROLE

    if actor.role == LOCAL_OPERATOR_ROLE:
        return Decision.allow(f"local operator {actor.name}")
    return None


def same_agency(actor: Actor, right: str, resource: Resource) -> Decision | None:
    """A common rule: an agency's own resources are open to its members holding the right."""
    if resource.agency and resource.agency == actor.agency:
        return Decision.allow(f"{resource.kind} belongs to {actor.agency}")
    return None


def shared(actor: Actor, right: str, resource: Resource) -> Decision | None:
    """A joint investigation: the owner shared the resource with the actor's agency, with
    named rights (``resource.attrs["shares"]`` is ``{agency: [rights]}``). A right the share
    does not grant is refused openly: the partner already knows the resource exists."""
    shares: Mapping[str, Iterable[str]] = resource.attrs.get("shares", {}) or {}
    granted = shares.get(actor.agency) if actor.agency else None
    if granted is None:
        return None
    if right in granted:
        return Decision.allow(f"{resource.kind} shared with {actor.agency} for {right}")
    return Decision.deny(f"the share with {actor.agency} does not grant {right!r}")

