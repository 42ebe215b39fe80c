"""`cvis demo --serve`: the web application on the demo data, with a demo sign-in."""

from __future__ import annotations

import threading
import time

import pyotp

from cvis.cli import render

CODE_PERIOD = 30


def _print_codes(secret: str, stop: threading.Event) -> None:
    """The demo's authenticator: print each new sign-in code as it comes."""
    totp = pyotp.TOTP(secret)
    while not stop.is_set():
        render.note(f"demo sign-in code now: {totp.now()} (a new one every {CODE_PERIOD} s)")
        stop.wait(CODE_PERIOD - time.time() % CODE_PERIOD + 0.5)


def serve_demo(host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    from cvis.api import create_app
    from cvis.store.db import Store
    from cvis.web.demo_account import demo_service_settings, ensure_demo_account

    store = Store()
    account = ensure_demo_account(store)
    render.note(f"open http://{host}:{port}/ and sign in with the demo account "
                "(benign demo data only):")
    render.note(f"  user name: {account.user}")
    render.note(f"  password:  {account.password}")
    render.note(f"  TOTP secret for an authenticator app: {account.totp_secret}")
    render.note("press Ctrl-C to stop")
    stop = threading.Event()
    threading.Thread(target=_print_codes, args=(account.totp_secret, stop), daemon=True).start()
    try:
        uvicorn.run(create_app(store, demo_service_settings(store)), host=host, port=port,
                    log_level="warning")
    finally:
        stop.set()
