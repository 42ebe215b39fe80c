"""The web application in a real browser: Playwright driving the system's Chromium against a
uvicorn server on a loopback port, on both backends. Sign-in with TOTP, a keyboard review of
the demo case, report download, CSRF refusal, agency need-to-know, and axe-core (vendored)
finding no serious or critical violation on any page at 1280 px and 375 px."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from sqlalchemy import select

from cvis.accounts.credentials import use_password_hasher
from cvis.accounts.roles import ROLES
from cvis.api import create_app
from cvis.config import Settings
from cvis.demo import DEMO_CASE
from cvis.foreign import sample
from cvis.hashsets.access import create_owned_set
from cvis.offices.service import import_offices, read_offices
from cvis.policy import Actor
from cvis.store.db import Store
from cvis.store.models import AuditRecord, HashSet, ItemReview, MatchReview
from cvis.tips.intake import submit_tip
from cvis.tips.messages import ask_tipster
from tests.conftest import PostgresDatabases
from tests.web_helpers import (
    AGENCY_A,
    B_CASE,
    PASSWORD,
    World,
    build_world,
    demo_files,
    web_settings,
)

CHROMIUM = "/usr/bin/chromium"
WIDTHS = (1280, 375)
SERIOUS = ("serious", "critical")
expect.set_options(timeout=15_000)  # a shared 2-core machine can be slow to settle a swap


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    """The demo case scanned into a fresh store on each backend (one per module)."""
    previous = use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    home = tmp_path_factory.mktemp(f"web-{request.param}")
    databases: PostgresDatabases | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'cvis.db'}"
    else:
        databases = request.getfixturevalue("postgres_databases")
        name = databases.create()
        url = databases.url(name)
    store = Store(Settings(home=home, database_url=url))
    world = build_world(store, demo_files(home / "demo"))
    sample.seed(store, AGENCY_A)  # foreign records for the foreign pages (ids from 1)
    _poster_draft(store)
    yield world
    store.dispose()
    if databases is not None:
        databases.drop(url.rsplit("/", 1)[1])
    use_password_hasher(previous)


def _poster_draft(store: Store) -> None:
    """A poster draft of agency A, for the editor's page in the axe check."""
    from cvis.portal.models import PosterDraftRecord

    with store.session() as session:
        session.add(PosterDraftRecord(
            draft_id="d-axe", agency="Demo Agency", kind="fugitive", title="Casey Placeholder",
            aliases=["KC"], description="", descriptors={"Eyes": "green"}, charges=[],
            caution="", reward="", field_office="", areas=[{"zip": "12207", "radius_miles": 10}],
            captions=["Artist's drawing"], portrait_seed=3, status="draft", poster_id="",
            created_by="adm"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    """A real uvicorn serving `cvis serve`'s app on a free loopback port."""
    port = _free_port()
    config = uvicorn.Config(create_app(world.store, web_settings()), host="127.0.0.1",
                            port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: .ci/run installs it with apt"
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def sessions(world: World) -> dict[str, Any]:
    """Each user's signed-in browser state, kept for the module: a TOTP code is single-use,
    so each user signs in through the form once and later tests reuse the cookie."""
    return {}


class Pages:
    """Browser tabs on the server, signed in as a user or not."""

    def __init__(self, browser: Browser, server: str, world: World, sessions: dict[str, Any]):
        self.browser, self.server, self.world, self.sessions = browser, server, world, sessions
        self.contexts: list[BrowserContext] = []

    def open(self, user: str | None = None, path: str = "/", width: int = 1280) -> Page:
        context = self.browser.new_context(
            base_url=self.server, viewport={"width": width, "height": 900},
            accept_downloads=True, storage_state=self.sessions.get(user or ""))
        self.contexts.append(context)
        page = context.new_page()
        if user and user not in self.sessions:
            sign_in(page, self.world, user, path)
            self.sessions[user] = context.storage_state()
        else:
            page.goto(path)
        return page


@pytest.fixture
def pages(browser: Browser, server: str, world: World, sessions: dict[str, Any]
          ) -> Iterator[Pages]:
    opened = Pages(browser, server, world, sessions)
    yield opened
    for context in opened.contexts:
        context.close()


def sign_in(page: Page, world: World, user: str, target: str = "/") -> None:
    page.goto(target)
    expect(page.get_by_role("heading", name="Sign in to cvis")).to_be_visible()
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(world.code(user))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_sign_in_with_password_and_totp(pages: Pages, world: World) -> None:
    page = pages.open(None, "/cases")
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill("123456")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Sign-in refused")
    sign_in(page, world, "ana", "/cases")
    pages.sessions["ana"] = page.context.storage_state()
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    expect(page.get_by_role("link", name=DEMO_CASE)).to_be_visible()


def _verdicts(world: World) -> dict[int, set[str]]:
    with world.store.session() as session:
        found: dict[int, set[str]] = {}
        for review in session.scalars(select(MatchReview)):
            found.setdefault(review.match_id, set()).add(review.verdict)
        return found


def _card(page: Page, n: int) -> str:
    return str(page.locator("#cards > li.card").nth(n).get_attribute("id"))


def test_review_the_demo_case_with_the_keyboard(pages: Pages, world: World) -> None:
    page = pages.open("ana", f"/cases/{DEMO_CASE}/review")
    first, second, third = (_card(page, n) for n in range(3))
    page.keyboard.press("c")  # confirm the first item; focus moves on
    expect(page.locator(f"#{first} .verdict-confirmed").first).to_be_visible()
    expect(page.locator(f"#{second}")).to_be_focused()
    page.keyboard.press("2")  # categorise the second
    expect(page.locator(f"#{second} button[aria-pressed=true]")).to_have_attribute("value", "2")
    expect(page.locator(f"#{third}")).to_be_focused()
    page.keyboard.press("r")
    page.keyboard.type("a different picture")
    page.keyboard.press("Enter")
    expect(page.locator(f"#{third} .verdict-rejected").first).to_be_visible()
    expect(page.locator("#cards > li.card").nth(3)).to_be_focused()  # moved on from the box
    assert {"confirmed", "rejected"} <= set().union(*_verdicts(world).values())
    page.keyboard.press("u")  # undo the rejection
    expect(page.locator(f"#{third} .verdict-rejected")).to_have_count(0)
    expect(page.locator(f"#{third}")).to_be_focused()  # the undone item is selected
    assert "rejected" not in set().union(*_verdicts(world).values())
    with world.store.session() as session:
        item = int(second.removeprefix("item-"))
        assert session.scalar(select(ItemReview.category).where(ItemReview.item_id == item)) == 2
    page.keyboard.press("k")
    page.keyboard.press("v")  # one step of reveal, audited
    expect(page.locator(f"#{second} img")).to_have_attribute("data-step", "1")
    expect(page.locator("#exposure")).to_contain_text("Revealed this session: 1")
    with world.store.session() as session:
        reveals = session.scalars(select(AuditRecord.object).where(
            AuditRecord.event == "web.reveal", AuditRecord.user == "ana")).all()
    assert f"item:{second.removeprefix('item-')}" in reveals


def test_the_report_downloads(pages: Pages) -> None:
    page = pages.open("ana", f"/cases/{DEMO_CASE}")
    with page.expect_download() as pdf:
        page.get_by_role("link", name="PDF").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    with page.expect_download() as report:
        page.get_by_role("link", name="JSON", exact=True).click()
    assert b'"identified_files"' in Path(report.value.path()).read_bytes()


def test_a_forged_form_is_refused(pages: Pages) -> None:
    page = pages.open("ana", "/settings")
    page.locator("form[action='/settings'] input[name=csrf]").evaluate("e => e.value = 'forged'")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("heading", name="Form refused")).to_be_visible()


def test_agency_b_sees_none_of_agency_a_cases(pages: Pages) -> None:
    page = pages.open("bob", "/cases")
    expect(page.get_by_role("link", name=B_CASE)).to_be_visible()
    expect(page.get_by_text(DEMO_CASE)).to_have_count(0)
    page.goto(f"/cases/{DEMO_CASE}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


PAGES = {
    "ana": ["/", "/cases", f"/cases/{DEMO_CASE}", f"/cases/{DEMO_CASE}/review",
            f"/cases/{DEMO_CASE}/review?view=one&i=1",
            f"/cases/{DEMO_CASE}/review?queue=unmatched", "/sets",
            "/sets/demo-known?first=0&last=1", "/settings", "/cases/NO-SUCH",
            "/tips/console", "/leads", "/leads/1"],
    # fusion: the pages with forms in tables, conflicts, definition lists and plots (the
    # target, release and 30-day tables share their markup; TestClient tests cover them)
    "adm": ["/audit?verify=1", "/admin", "/sets", "/sets/a-owned", "/foreign/travellers/1",
            "/foreign/notices/2", "/foreign/complaints", "/foreign/complaints/2",
            "/foreign/report", "/subjects/S-A1", "/queues", "/detainers/1", "/months/2026-11"],
    "sue": ["/links", "/links/{review}", f"/cases/{DEMO_CASE}/series"],
}
PAGES["adm"] += ["/posters", "/posters/d-axe"]  # d-axe: the poster editor


def read_offices_text(text: str) -> list[Any]:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "offices.csv").write_text(text)
        return read_offices(Path(folder) / "offices.csv")


def _axe_serious(page: Page) -> list[str]:
    page.add_script_tag(url="/static/vendor/axe.min.js")
    found = page.evaluate("async () => (await axe.run(document)).violations"
                          ".map(v => [v.impact, v.id, v.nodes.length])")
    return [f"{impact} {rule} ({nodes} nodes)" for impact, rule, nodes in found
            if impact in SERIOUS]


@pytest.fixture(scope="module")
def tip_lead(world: World) -> int:
    """Lead 1: a phoned, anonymous tip in agency A's office, with a question to the tipster."""
    rows = read_offices_text(f"office_id,name,email,states,counties\n{AGENCY_A},Office A,,TX,\n")
    with world.store.session() as session:
        session.info["settings"] = world.store.settings  # the audit key is the store's
        import_offices(session, rows)
        actor = Actor(name="ana", agency=AGENCY_A, role="examiner", rights=ROLES["examiner"])
        made = submit_tip(session, {"channel": "phone", "narrative": "A man is hurting a child now",
                                    "anonymous": True, "location": {"zip": "77002"},
                                    "subject": {"name": "John Roe", "dob": "1980-02-03"},
                                    "urls": ["https://forum.example/t/1"]},
                          actor=actor, limiter=None)
        ask_tipster(session, actor, made["tip_id"], "Which street?")
    assert made["lead_id"] == 1
    return 1


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_no_serious_violation_on_any_page(pages: Pages, width: int,
                                                    tip_lead: int) -> None:
    with pages.world.store.session() as session:
        if session.scalar(select(HashSet.id).where(HashSet.name == "a-owned")) is None:
            create_owned_set(session, "a-owned", "Demo Agency")
    problems = {"/signin": _axe_serious(pages.open(None, "/signin", width))}
    for user, paths in PAGES.items():
        page = pages.open(user, "/", width)
        for path in paths:
            page.goto(path.format(**pages.world.links))
            problems[path] = _axe_serious(page)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems[path].append(f"the page scrolls sideways by {overflow}px")
    assert {p: v for p, v in problems.items() if v} == {}
