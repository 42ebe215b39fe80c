"""The fusion part of `cvis demo`: two generated months, targets, releases, a screened flight,
a notice, a complaint with its correction and letter, and the annual report.

Benign data only (Faker people). Nothing is mailed: notices are written to files.
Call ``run_fusion_demo(workdir, say=print_function)``; it returns what it made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cvis.foreign import annual, notices
from cvis.foreign.travel import determine, screen_manifest, screened_travellers
from cvis.fusion.generate import generate_month
from cvis.fusion.month import MonthRequest, run_month
from cvis.linkage import service as linkage
from cvis.policy.actors import local_operator
from cvis.store.db import Store


def _paxlst(passengers: list[dict[str, str]], departure: datetime) -> str:
    stamp = departure.strftime("%y%m%d%H%M")
    lines = ["UNA:+.? '", "UNB+UNOA:4+DEMOAIR+CVIS+000000:0000+1'",
             "UNH+1+PAXLST:D:02B:UN:IATA'", "BGM+745'", "TDT+20+DM100'", "LOC+125+IAH'",
             f"DTM+189:{stamp}:201'", "LOC+87+LHR'"]
    for p in passengers:
        lines += [f"NAD+FL+++{p['family_name']}:{p['given_names']}'", f"ATT+2++{p['sex']}'",
                  f"DTM+329:{p['dob'].replace('-', '')}'", "NAT+2+USA'",
                  f"DOC+P+{p['passport']}'"]
    lines += [f"UNT+{len(lines)}+1'", "UNZ+1+1'"]
    return "\n".join(lines) + "\n"


DEMO_AGENCY = "Demo Agency"  # cvis.demo's case agency (and cvis.web.demo_account's)
DEMO_OFFICES = (  # areas of responsibility over the generated states (synthetic.STATES)
    ("WEST", "West field office", ("CA", "WA", "AZ")),
    ("SOUTH", "South field office", ("TX", "FL", "GA", "NC", "VA")),
    ("EAST", "East field office", ("NY", "PA", "NJ", "OH", "MI", "IL")),
)


def _demo_offices(store: Store) -> None:
    """Three field offices for the demo's targets and queues, unless offices are set up."""
    from cvis.offices.service import OfficeRow, import_offices, list_offices

    with store.session() as session:
        if list_offices(session):
            return
        import_offices(session, [OfficeRow(code, name, f"{code.lower()}@cvis.invalid", states,
                                           ()) for code, name, states in DEMO_OFFICES])


def _demo_queues(store: Store, actor: Any, targets: list[Any]) -> None:
    """The top targets in their offices' queues (a fugitive team for those wanted), one
    accepted, so the queue pages have work on them."""
    from cvis.fusion import queues

    for n, target in enumerate(targets[:4]):
        wanted = any(f["name"] in ("charged_at_large", "absconder") for f in target.factors)
        link = next((s["ref"] for s in target.sources if s["kind"] == "link"), "")
        job = queues.assign(store, actor, target.subject_id, target.office or "SOUTH",
                            team="fugitive operations" if wanted else "", link_key=link)
        if n == 0:
            queues.accept(store, actor, job)


def run_fusion_demo(workdir: Path, say: Callable[[str], None] = lambda _m: None,
                    store: Store | None = None) -> dict[str, Any]:
    store = store or Store()
    # the demo's people belong to the demo case's agency, so its sign-in sees them
    actor = replace(local_operator(purpose="cvis demo"), agency=DEMO_AGENCY)
    _demo_offices(store)
    state = workdir / "linkage"
    months = []
    for month in (1, 2):
        files = generate_month(workdir / f"month-{month}", month, registrants=300)
        request = MonthRequest(
            period=files.as_of.strftime("%Y-%m"),
            registry=linkage.InputSpec("registry", files.registry),
            indices=[linkage.InputSpec(n, p, files.mappings.get(n))
                     for n, p in files.indices.items()],
            out=workdir / f"month-{month}" / "out", state_dir=state, as_of=files.as_of,
            tips=files.tips)
        result = run_month(store, actor, request)
        s = result.summary
        say(f"month {s['period']}: {s['subjects']} subjects, {s['links']} links "
            f"{s['link_changes']}, {s['targets']} targets {s['targets_by_tier']}, "
            f"{s['detainers_drafted']} detainer drafts -> {result.paths['month.pdf']}")
        months.append(s)
    top = result.targets[0]
    _demo_queues(store, actor, result.targets)
    say(f"top target {top.subject_id} ({top.tier}, {top.score}): " + ", ".join(
        f"{f['name']} +{f['points']}" for f in top.factors))

    import pandas as pd

    registry = pd.read_csv(files.registry, dtype=str)
    r = registry.iloc[3]
    passengers = [{"family_name": r.family_name, "given_names": r.given_names, "sex": r.sex,
                   "dob": r.dob[2:], "passport": "D1000001"},
                  {"family_name": r.family_name, "given_names": r.given_names, "sex": r.sex,
                   "dob": "991231", "passport": "D1000002"}]  # the same name only
    departure = datetime.now(UTC) + timedelta(days=5)
    manifest = workdir / "flight-DM100.edi"
    manifest.write_text(_paxlst(passengers, departure), encoding="utf-8")
    run = screen_manifest(store, actor, manifest, files.registry)
    hits = [len(x.candidates) for x in run.results]
    say(f"flight DM100: {len(hits)} travellers, candidates per traveller {hits} "
        "(the namesake is not proposed)")
    rows = screened_travellers(store, actor, run.screening_id)
    covered = next(row for row in rows if row["candidates"])
    det = determine(store, actor, int(str(covered["traveller_id"])),
                    covered["candidates"][0]["registry_id"],  # type: ignore[index]
                    covered=True, basis="name, date of birth and sex agree", notify=True)
    notice_id = notices.draft_traveller_notice(store, actor, det)
    notices.confirm(store, actor, notice_id)
    complaint = notices.file_complaint(store, "A. Traveller", "I was never convicted",
                                       notice_id=notice_id)
    letter = notices.review_complaint(store, actor, complaint, upheld=True,
                                      explanation="the registry entry belonged to another "
                                                  "person of the same name",
                                      prevention="second check of birth date by an officer",
                                      folder=workdir / "letters")
    say(f"notice N-{notice_id} confirmed and signed; complaint upheld, correction signed, "
        f"letter {letter['path']}")
    figures = annual.annual_report(store, actor, datetime.now(UTC).year, workdir / "annual")
    say(f"annual report: {workdir / 'annual'} (errors found {figures['errors_found']})")
    return {"months": months, "screening": run.screening_id, "notice": notice_id,
            "complaint": complaint, "annual": figures}
