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
    ("settings", "/settings", "demo", 1280, "Wellbeing settings, per examiner"),
    ("audit", "/audit?verify=1", "demo-admin", 1280, "Audit log: search and chain status"),
    ("admin", "/admin", "demo-admin", 1280, "Administration: agencies, users, tokens"),
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
    from cvis.web.demo_account import DEMO_AGENCY, ensure_demo_account

    run_demo(quiet=True)
    store = Store()
    account = ensure_demo_account(store)
    with store.session() as session:
        admin_secret = add_user(session, "demo-admin", DEMO_AGENCY, "admin", account.password)[1]
    secrets = {"demo": account.totp_secret, "demo-admin": admin_secret}
    top = _top_subject(store, DEMO_AGENCY)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=port,
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
            page.goto(path.format(top=top))
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


if __name__ == "__main__":
    main()
