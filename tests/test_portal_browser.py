"""The portal in a real browser (Debian's Chromium through Playwright): WCAG 2.1 AA with
axe-core (no serious or critical violation), usable at 375 px, posters readable offline."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from cvis.portal import service
from cvis.portal.app import create_public_app
from cvis.portal.settings import PortalSettings
from tests.test_portal import FakeIntake, operator, poster_json

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "portal_vendor" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8") + "\n;true"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_portal(sqlite_store, tmp_path) -> Iterator[tuple[str, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = PortalSettings(store=sqlite_store.settings, public_url=base, cache_seconds=0.0)
    poster = service.publish(sqlite_store, settings, operator(), poster_json(tmp_path))
    app = create_public_app(settings, intake=FakeIntake())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield base, poster.poster_id
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


def serious_violations(page: Page) -> list[str]:
    page.evaluate(AXE_SOURCE)  # through the devtools protocol: the page's CSP still holds
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    assert len(result["passes"]) > 10  # axe really ran its rules on this page
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def test_every_page_passes_axe_at_375px_in_both_languages(live_portal, browser):
    base, poster_id = live_portal
    page = browser.new_page(viewport={"width": 375, "height": 740})
    paths = ["/", f"/posters/{poster_id}", "/alerts", f"/alerts?poster={poster_id}",
             "/registries", "/registries/search?last=Doe", "/offline", "/complaints",
             "/complaints/form"]
    for lang in ("en", "es"):
        for path in paths:
            url = f"{base}{path}{'&' if '?' in path else '?'}lang={lang}"
            page.goto(url)
            assert serious_violations(page) == [], url
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{url} scrolls sideways at 375 px ({width} px)"
    page.goto(f"{base}/posters/{poster_id}")
    page.fill("#narrative", "I saw him at the station")
    page.click("button[type=submit]")
    assert "R-TEST-1" in page.content()
    assert serious_violations(page) == []


def test_a_poster_seen_once_is_readable_offline(live_portal, browser):
    base, poster_id = live_portal
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.goto(f"{base}/posters/{poster_id}")  # now under the worker's control
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.reload()
    page.wait_for_function("url => caches.match(url).then(hit => !!hit)",
                           arg=f"{base}/posters/{poster_id}")
    context.set_offline(True)
    page.goto(f"{base}/posters/{poster_id}")
    assert "Jordan Example" in page.content()
    page.goto(f"{base}/posters/p-00000000")
    assert "offline" in page.content().lower()
    context.close()


def test_copy_link_puts_the_poster_address_on_the_clipboard(live_portal, browser):
    base, poster_id = live_portal
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{base}/posters/{poster_id}")
    page.click("a.copy-link")
    page.wait_for_selector(".copy-status:has-text('Link copied')")
    assert page.evaluate("navigator.clipboard.readText()") == f"{base}/posters/{poster_id}"
    context.close()
