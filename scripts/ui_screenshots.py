"""Screenshots of every page of the web application for docs/ui.md, made from the demo data.

    .venv/bin/python scripts/ui_screenshots.py [--out docs/ui]

Builds the benign demo in a temporary CVIS_HOME, adds the demo sign-in (and an
administrator for the administration page), serves the app on a loopback port
and drives the system's Chromium (/usr/bin/chromium) through each page.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
PAGES = [  # (file, path, user, width, caption)
    ("signin", "/signin", None, 1280, "Sign-in with password and authenticator code"),
    ("home", "/", "demo", 1280, "Home: review queue, my cases, deconfliction notices"),
    ("cases", "/cases", "demo", 1280, "Cases: list and search"),
    ("case", "/cases/DEMO-CASE", "demo", 1280,
     "A case: report downloads, matches by category and series, scans, evidence, history"),
    ("review-grid", "/cases/DEMO-CASE/review", "demo", 1280,
     "Review, grid: every picture blurred and grey, category and series shown first"),
    ("review-one", "/cases/DEMO-CASE/review?view=one&i=0&step=1", "demo", 1280,
     "Review, one at a time, after one step of reveal (less blur, still grey)"),
    ("review-375", "/cases/DEMO-CASE/review?view=one&i=1", "demo", 375,
     "Review at 375 px"),
    ("sets", "/sets", "demo", 1280, "Hash sets"),
    ("set", "/sets/demo-known?first=0&last=1", "demo", 1280,
     "A hash set: versions and what changed between two"),
    ("set-admin", "/sets/demo-admin-list", "demo-admin", 1280,
     "A curator's set: disputed hashes with the lift button, who may use it, import a version"),
    ("set-import", "/sets/imports/1", "demo-admin", 1280,
     "A hash-list import: progress, then what it changed (or each malformed line)"),
    ("links", "/links", "demo", 1280,
     "Registry links: the cross-match's candidates, the clerical review band first"),
    ("link", "/links/{link}", "demo", 1280,
     "A link: registrant and index record side by side, each field's agreement and weight"),
    ("link-375", "/links/{link}", "demo", 375, "A link at 375 px"),
    ("series", "/cases/DEMO-CASE/series", "demo", 1280,
     "Candidate series: categorised unmatched pictures grouped, blurred, exported as hashes"),
    ("settings", "/settings", "demo", 1280, "Wellbeing settings, per examiner"),
    ("audit", "/audit?verify=1", "demo-admin", 1280, "Audit log: search and chain status"),
    ("admin", "/admin", "demo-admin", 1280, "Administration: agencies, users, tokens"),
    ("foreign-hits", "/foreign", "demo-admin", 1280,
     "Foreign work: screening hits awaiting a determination"),
    ("foreign-traveller", "/foreign/travellers/{traveller_id}", "demo-admin", 1280,
     "A traveller beside the registrant, with the determination form"),
    ("foreign-notice", "/foreign/notices/{notice_id}", "demo-admin", 1280,
     "A notice: where it stands, PDF and signed JSON"),
    ("foreign-inbound", "/foreign/inbound/{pending_request_id}", "demo-admin", 1280,
     "An inbound request awaiting approval"),
    ("foreign-complaints", "/foreign/complaints", "demo-admin", 1280,
     "Complaints queue: open and overdue first"),
    ("foreign-complaint", "/foreign/complaints/{open_complaint_id}", "demo-admin", 1280,
     "A complaint from the portal: tie it to its notice, decide, letter"),
    ("foreign-report", "/foreign/report", "demo-admin", 1280, "The annual report's figures"),
    ("tips-console", "/tips/console", "demo", 1280,
     "Tip line: the call-taker console, child in immediate danger asked first"),
    ("tips-queue", "/leads", "demo", 1280,
     "Tip line: the leads queue by office and tier, overdue first, with deadlines"),
    ("tips-lead", "/leads/1", "demo", 1280,
     "Tip line: a lead (factors with points, tier change, steps, routing, tipster questions)"),
    ("posters", "/posters", "demo-admin", 1280,
     "Most-wanted posters: drafts, published, captured, withdrawn, fusion's nominations"),
    ("poster-new", "/posters/new", "demo-admin", 1280, "The poster editor"),
    ("targets", "/targets", "demo", 1280, "Targets per field office, with tiers and reasons"),
    ("subject", "/subjects/{top}", "demo", 1280,
     "A subject: score, timeline of facts with sources, conflicts side by side, merges, "
     "queues, shares"),
    ("queues", "/queues", "demo", 1280, "Work queues per office and fugitive team"),
    ("releases", "/releases", "demo", 1280, "Inmates due for release and their detainers"),
    ("detainer", "/detainers/1", "demo", 1280, "A detainer draft, signed by an officer"),
    ("month", "/months", "demo", 1280, "The monthly report: counts, changes, plots, PDF"),
    ("high-priority", "/targets/high-priority", "demo", 1280,
     "The 30-day high-priority list, shared with agencies"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/ui"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        os.environ["CVIS_HOME"] = home
        os.environ.pop("CVIS_DATABASE_URL", None)
        shoot(args.out)


def shoot(out: Path) -> None:
    import pyotp
    import uvicorn
    from playwright.sync_api import sync_playwright

    from cvis.accounts.service import add_user
    from cvis.api import create_app
    from cvis.demo import run_demo
    from cvis.store.db import Store
    from cvis.web.demo_account import DEMO_AGENCY, demo_service_settings, ensure_demo_account

    run_demo(quiet=True)
    store = Store()
    account = ensure_demo_account(store)
    with store.session() as session:
        admin_secret = add_user(session, "demo-admin", DEMO_AGENCY, "admin", account.password)[1]
    secrets = {"demo": account.totp_secret, "demo-admin": admin_secret}
    from cvis.foreign import sample

    foreign_ids = sample.seed(store, DEMO_AGENCY)  # the foreign pages' records, ids in paths
    _tip_line(store, DEMO_AGENCY)
    top = _top_subject(store, DEMO_AGENCY)
    port = _free_port()
    app = create_app(store, demo_service_settings(store))
    link = _prepare(store, app)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
        signed_in: dict[str, Any] = {}
        for name, path, user, width, _caption in PAGES:
            context = browser.new_context(base_url=f"http://127.0.0.1:{port}",
                                          viewport={"width": width, "height": 860},
                                          storage_state=signed_in.get(user or ""))
            page = context.new_page()
            if user and user not in signed_in:
                page.goto("/signin")
                page.get_by_label("User name").fill(user)
                page.get_by_label("Password").fill(account.password)
                page.get_by_label("Code from your authenticator app").fill(
                    pyotp.TOTP(secrets[user]).now())
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/")
                signed_in[user] = context.storage_state()
            page.goto(path.format(link=link, top=top, **foreign_ids))
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / f"{name}.jpg"), type="jpeg", quality=70)
            context.close()
        browser.close()
    server.should_exit = True


def _top_subject(store: Any, agency: str) -> str:
    """The demo's best-ranked target (its subject page is the one shown)."""
    from dataclasses import replace

    from cvis.fusion.service import list_targets
    from cvis.policy.actors import local_operator

    actor = replace(local_operator(purpose="screenshots"), agency=agency, role="supervisor")
    found = list_targets(store, actor)
    return found[0].subject_id if found else "none"


def _prepare(store: Any, app: Any) -> str:
    """What the administration pages show: a list imported through the web (one malformed
    line skipped), the demo case's unmatched pictures categorised and grouped; returns a
    link key of the demo's cross-match (one in the review band when there is one)."""
    from cvis.accounts.service import add_agency
    from cvis.audit.log import Actor
    from cvis.cases.review import categorise_item, review_queue
    from cvis.cases.series import build_candidate_series
    from cvis.demo import DEMO_CASE
    from cvis.linkage.review import queue
    from cvis.linkage.state import LinkageState
    from cvis.web.demo_account import DEMO_AGENCY
    from cvis.web.imports import ImportJob

    web = next(r.app for r in app.routes if getattr(r, "name", "") == "web")
    with store.session() as session:
        add_agency(session, "Partner Agency")  # someone to share the curator's set with
    listing = Path(tempfile.mkdtemp()) / "demo-admin-list.csv"
    listing.write_text("media_id,md5,category\nm1," + "ab" * 16 + ",3\nm2,not-a-hash,3\n"
                       "m3," + "cd" * 16 + ",4\n", encoding="utf-8")
    job = ImportJob(0, "demo-admin-list", listing.name, "demo-admin", listing.stat().st_size)
    web.state.imports.start(store, listing, job, agency=DEMO_AGENCY, format_name="csv",
                            skip_bad=True, audit=web.state.services.audit.write,
                            actor=Actor("demo-admin", DEMO_AGENCY, "127.0.0.1"), wait=True)
    with store.session() as session:
        for entry in review_queue(session, DEMO_CASE, unmatched=True):
            categorise_item(session, entry.item_id, reviewer="demo", category=3)
        build_candidate_series(session, DEMO_CASE, actor="demo")
    settings = web.state.services.settings
    with LinkageState(settings.linkage_state, audit=False) as state:
        items = queue(state)
    return next((i.key for i in items if i.band == "review"), items[0].key if items else "none")
def _tip_line(store: Any, agency: str) -> None:
    """Three benign tips in the demo agency's office: one overdue, one IMMEDIATE, one
    anonymous with a question to its tipster (lead 1)."""
    from datetime import UTC, datetime, timedelta

    from cvis.accounts.roles import ROLES
    from cvis.offices.service import import_offices, read_offices
    from cvis.policy import Actor
    from cvis.tips.intake import submit_tip
    from cvis.tips.messages import ask_tipster
    table = Path(os.environ["CVIS_HOME"]) / "offices.csv"
    table.write_text(f"office_id,name,email,states,counties\n{agency},Demo office,,TX,\n")
    actor = Actor(name="demo", agency=agency, role="supervisor", rights=ROLES["supervisor"])
    with store.session() as session:
        session.info["settings"] = store.settings
        import_offices(session, read_offices(table))
        first = submit_tip(session, {
            "channel": "phone", "anonymous": True, "location": {"zip": "77002"},
            "narrative": "A user on a forum offers to trade pictures of children.",
            "urls": ["https://forum.example/t/123"], "accounts": ["@trader"]},
            actor=actor, limiter=None)
        ask_tipster(session, actor, first["tip_id"], "Which forum section was it?")
        submit_tip(session, {"channel": "web", "narrative": "Someone is meeting a child tonight.",
                             "location": {"state": "TX"}, "immediate_danger": True,
                             "subject": {"name": "John Roe", "dob": "1980-02-03"}},
                   actor=actor, limiter=None)
        submit_tip(session, {"channel": "sms", "narrative": "Pictures are sold in a chat group.",
                             "location": {"state": "TX", "county": "Dallas"}},
                   actor=actor, limiter=None, now=datetime.now(UTC) - timedelta(days=40))


if __name__ == "__main__":
    main()
