"""A small, fixed set of foreign records for one agency: what the analyst pages' tests and
screenshots open without running the linkage (fictional people, no registry needed).

It makes a screened flight with a hit awaiting a determination, a removal notice confirmed
and signed, a complaint decided with its letter and one from the portal still open, and two
inbound requests (one answered, one waiting for approval). Returns the ids.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from cvis.foreign import notices
from cvis.foreign.models import InboundRequest, ScreenedTraveller, Screening
from cvis.fusion import subjects as subj
from cvis.fusion.common import now
from cvis.policy.actors import local_operator
from cvis.store.db import Store

PEOPLE = (  # (given, family, dob, sex, nationality, passport)
    ("Rowan", "Castellanos", "1979-04-11", "M", "USA", "X3141592"),
    ("Imogen", "Thackeray", "1984-10-02", "F", "USA", "X2718281"),
)


def _registrant(store: Store, registry_id: str, person: tuple[str, ...], agency: str) -> None:
    given, family, dob, sex, _nat, passport = person
    facts = {"given_names": given, "family_name": family, "dob": dob, "sex": sex,
             "nationality": "US", "passport_number": passport,
             "offence": "possession of child sexual abuse material",
             "conviction_date": "2011-06-30", "offence_against_child": True,
             "jurisdiction": "TX"}
    with store.session() as session:
        subject = subj.ensure_subject(session, subj.subject_key(registry_id), agency)
        for name, value in facts.items():
            subj.add_fact(session, subject, subj.FactIn(name, value, "registry",
                                                        f"registry:{registry_id}", now()))


def _screening(store: Store, agency: str, kind: str, person: tuple[str, ...],
               registry_id: str, departure_days: int) -> tuple[int, int]:
    given, family, dob, sex, nat, passport = person
    departure = now() + timedelta(days=departure_days)
    with store.session() as session:
        screening = Screening(kind=kind, manifest_sha256=f"{agency}-{kind}-{registry_id}",
                              format="paxlst" if kind == "manifest" else "inbound",
                              source="sample", agency=agency, screened_by="sample",
                              travellers=1)
        session.add(screening)
        session.flush()
        traveller = ScreenedTraveller(
            screening_id=screening.id, position=0, departure_at=departure,
            departure_zone="America/New_York", destination="GB", flight="XA123",
            hours_before=departure_days * 24.0,
            fields={"given_names": given, "family_name": family, "dob": dob, "sex": sex,
                    "nationality": nat, "passport_number": passport, "flight": "XA123"},
            candidates=[{"registry_id": registry_id, "match_probability": 0.987,
                         "match_weight": 12.4, "agreement":
                         "given_names: exact; family_name: exact; dob: exact; sex: exact; "
                         "document: same number; nationality: agrees"}])
        session.add(traveller)
        session.flush()
        return screening.id, traveller.id


def registry_id(agency: str, n: int = 1) -> str:
    """The sample registrants' ids are the agency's own: R-<agency>-1 is the hit."""
    tag = "".join(ch for ch in agency.upper() if ch.isalnum())[:8] or "X"
    return f"R-{tag}-{n}"


def seed(store: Store, agency: str, home: Path | None = None) -> dict[str, Any]:
    """The records for ``agency``."""
    actor = replace(local_operator(purpose="sample records"), agency=agency)
    tag = registry_id(agency).split("-")[1]
    ids: dict[str, Any] = {"year": now().year}
    hit_id, removal_id = registry_id(agency, 1), registry_id(agency, 2)
    _registrant(store, hit_id, PEOPLE[0], agency)
    _registrant(store, removal_id, PEOPLE[1], agency)
    ids["screening_id"], ids["traveller_id"] = _screening(store, agency, "manifest",
                                                          PEOPLE[0], hit_id, 5)
    ids["notice_id"] = notices.draft_removal_notice(store, actor, removal_id, "GB",
                                                    now() + timedelta(days=9))
    notices.confirm(store, actor, ids["notice_id"])
    ids["draft_id"] = notices.draft_removal_notice(store, actor, hit_id, "MX", None)
    ids["complaint_id"] = notices.file_complaint(
        store, "Imogen Thackeray", "The notice sent about me says I was convicted in Texas; "
        "I have never lived there.", notice_id=ids["notice_id"], contact="PO Box 12")
    notices.review_complaint(store, actor, ids["complaint_id"], upheld=False,
                             explanation="The conviction is on the Texas registry under "
                                         "your name, date of birth and passport.",
                             folder=(home or store.settings.home) / "letters")
    ids["open_complaint_id"] = notices.file_complaint(
        store, "A. Traveller", "I was refused entry after a notice; I have no conviction.",
        notice_id=None, contact="traveller@example.org")
    for status in ("answered", "pending"):
        screening_id, _ = _screening(store, agency, "inbound", PEOPLE[0], hit_id, 3)
        with store.session() as session:
            request = InboundRequest(
                country="GB", reference=f"UK-{tag}-{status}", screening_id=screening_id,
                traveller={k: v for k, v in zip(("given_names", "family_name", "dob"),
                                                PEOPLE[0][:3], strict=True)},
                status=status, approver="sample" if status == "answered" else "",
                decided_at=now() if status == "answered" else None,
                answer={"covered": True, "basis": "sample"} if status == "answered" else {})
            session.add(request)
            session.flush()
            ids[f"{status}_request_id"] = request.id
    ids["request_id"] = ids["answered_request_id"]
    return ids
