"""Registry links: the cross-match's review queue, and one link's evidence side by side.

Thin over the linkage review service the CLI uses (``cvis.linkage.review``: queue and
decide). The linkage state is a DuckDB file apart from the store; the page opens it
for the one request and records which tables it read and wrote in the audit log under
the signed-in user's name (the CLI records the same under the local operator's). Who
may see the links is the policy's "linkage" rule: the agency named as the
cross-match's owner (``CVIS_LINKAGE_AGENCY``), through its members' rights.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote as _q

import duckdb
from fastapi import APIRouter, Form, Query, Request, Response

from cvis import policy
from cvis.accounts.roles import LINKAGE_READ, LINKAGE_REVIEW
from cvis.audit.log import Actor as AuditActor
from cvis.audit.log import AuditEntry
from cvis.linkage import review
from cvis.linkage.state import DB_FILE, LinkageState
from cvis.policy import Resource
from cvis.web.render import page, see_other
from cvis.web.routes.common import NoSuch, ServicesDep, require_right, touch
from cvis.web.session import FormUserDep, UserDep, WebUser

router = APIRouter()
SHOWN = 500  # rows of the queue a page lists


class StateBusy(RuntimeError):
    """Another process holds the linkage state (a monthly run writing it)."""


def state_dir(services: ServicesDep) -> Path:
    """Where the cross-match keeps its state: the configured directory, else the store's
    home/linkage (``cvis link run``'s default)."""
    return services.settings.linkage_state or services.store.settings.home / "linkage"


def linkage_resource(services: ServicesDep) -> Resource:
    return Resource("linkage", str(state_dir(services)), services.settings.linkage_agency)


def _allow(services: ServicesDep, user: WebUser, right: str) -> None:
    require_right(user, right, "linkage")
    policy.require(user.actor, right, linkage_resource(services))


@contextmanager
def _state(services: ServicesDep, user: WebUser, request: Request,
           purpose: str) -> Iterator[LinkageState | None]:
    """The state for this request (None before any run), its tables' access audited."""
    where = state_dir(services)
    if not (where / DB_FILE).exists():
        yield None
        return
    try:
        state = LinkageState(where, purpose=purpose, audit=False)
    except duckdb.IOException as exc:
        raise StateBusy(str(exc)) from None
    try:
        yield state
    finally:
        state.close()
        who = AuditActor(user.name, user.principal.agency,
                         request.client.host if request.client else "")
        for event, tables in (("linkage.state.read", state.read),
                              ("linkage.state.write", state.written)):
            if tables:
                services.audit.write(AuditEntry(
                    "linkage", event, who, "success", f"linkage-state:{where}", purpose,
                    "tables: " + ", ".join(sorted(tables))))


def _order(items: list[review.ReviewItem]) -> list[review.ReviewItem]:
    """The clerical band first (the pairs only a person can settle), then the links; most
    probable first within each."""
    return sorted(items, key=lambda i: (i.band != "review", -i.match_probability, i.key))


def who(data: dict[str, Any]) -> str:
    name = " ".join(str(data[k]) for k in ("given_names", "family_name") if data.get(k))
    return (name or str(data.get("full_name", ""))).strip() or "–"


@router.get("/links")
def link_list(
    request: Request, services: ServicesDep, user: UserDep,
    all: Annotated[int, Query(ge=0, le=1)] = 0,
    band: Annotated[str, Query(pattern="^(|review|link)$")] = "",
) -> Response:
    touch(request, "linkage links", "web.links", purpose="link review")
    _allow(services, user, LINKAGE_READ)
    with _state(services, user, request, "link review") as state:
        items = review.queue(state, include_decided=bool(all)) if state else []
        ran = state is not None and state.latest_run_id() is not None
    shown = [i for i in _order(items) if not band or i.band == band]
    return page(request, "links/list.html", user, title="Registry links", ran=ran,
                items=shown[:SHOWN], total=len(shown), more=len(shown) > SHOWN,
                all=bool(all), band=band, who=who, block="results")


def _find(state: LinkageState | None, key: str) -> review.ReviewItem:
    found = next((i for i in review.queue(state, include_decided=True) if i.key == key),
                 None) if state else None
    if found is None:
        raise NoSuch(f"There is no link {key!r} in the latest cross-match.")
    return found


# The linker compares derived columns under its own names; these show the input fields
# each one reads (a comparison not named here reads the field of its own name).
COMPARED_FIELDS = {
    "given_name": ("given_names",),
    "name_order": ("given_names", "family_name"),
    "full_name": ("given_names", "family_name"),
}


def _value(data: dict[str, Any], fields: tuple[str, ...]) -> str:
    return " ".join(str(data[f]) for f in fields if data.get(f) not in (None, ""))


def _rows(item: review.ReviewItem) -> list[dict[str, Any]]:
    """Field by field: the registrant's value, the record's, how they agreed and the
    weight the linker gave it (compared fields first, in the linker's order)."""
    rows: list[dict[str, Any]] = []
    covered: set[str] = set()
    for f in item.explanation or []:
        fields = COMPARED_FIELDS.get(f["field"], (f["field"],))
        covered.update(fields)
        rows.append({"field": f["field"], "registrant": _value(item.registrant, fields),
                     "record": _value(item.record, fields), "agreement": f["agreement"],
                     "weight": f.get("weight")})
    for name in sorted((set(item.registrant) | set(item.record)) - covered):
        rows.append({"field": name, "registrant": _value(item.registrant, (name,)),
                     "record": _value(item.record, (name,)), "agreement": "", "weight": None})
    return rows


@router.get("/links/{key}")
def link_page(
    request: Request, services: ServicesDep, user: UserDep, key: str,
    error: Annotated[str, Query(max_length=300)] = "",
    notice: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    touch(request, f"link:{key}", "web.link.show", purpose="link review")
    _allow(services, user, LINKAGE_READ)
    with _state(services, user, request, "link review") as state:
        item = _find(state, key)
    return page(request, "links/link.html", user, title=f"Link {key}", item=item,
                rows=_rows(item), who=who, office=review.field_office(item),
                may_decide=user.may(LINKAGE_REVIEW), error=error, notice=notice)


@router.post("/links/{key}")
def link_decide(
    request: Request, services: ServicesDep, user: FormUserDep, key: str,
    decision: Annotated[str, Form(pattern="^(confirm|reject)$")],
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A person confirms (a lead opens for the owning field office) or rejects with a
    reason; the decision is the linkage service's, kept across months."""
    touch(request, f"link:{key} {decision}", f"web.link.{decision}",
          purpose=reason.strip() or "link review")
    _allow(services, user, LINKAGE_REVIEW)
    if decision == "reject" and not reason.strip():
        request.state.audit_outcome = "failure"
        return see_other(f"/links/{key}?error=" + _q(
            "Say why you reject this link (for example: different dates of birth), "
            "then press Reject again."))
    with _state(services, user, request, "link review decision") as state:
        item = _find(state, key)
        assert state is not None  # _find found the link in it
        try:
            decided = review.decide(state, item.key, decision, user.name, reason.strip())
        except review.ReviewError as exc:
            request.state.audit_outcome = "failure"
            return see_other(f"/links/{key}?error=" + _q(str(exc)))
    return see_other(f"/links/{key}?notice=" + _q(f"Link {decided.key} {decided.status}."))
