"""`cvis serve`: the HTTP API on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

SERVE_HELP = "The HTTP API (OpenAPI at /openapi.json, endpoints under /api/v1)."


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the HTTP API; each worker process builds its own matcher and keeps it fresh.

    The tip line's deadline scheduler runs once here, beside the workers (not in each of
    them), unless CVIS_TIP_SCHEDULER=0 says another process runs it (`cvis lead watch`)."""
    import os
    from contextlib import nullcontext

    import uvicorn

    from cvis.store.db import Store
    from cvis.tips.scheduler import SCHEDULER_ENV, background, enabled_here

    Store().dispose()  # migrate once here, not racing in every worker
    store = Store() if enabled_here() else None
    os.environ[SCHEDULER_ENV] = "0"  # the workers' apps start none of their own
    try:
        with background(store) if store is not None else nullcontext():
            # uvloop and httptools: the event loop and HTTP parser in C (several times the
            # pure Python ones for small requests); JSON bodies are written by orjson. No
            # access log: uvicorn formats its line for every request even when the level
            # drops it, and every API request has its audit record.
            uvicorn.run("cvis.api.asgi:app", host=host, port=port, workers=workers,
                        log_level=log_level, factory=False, loop=_loop(), http="httptools",
                        access_log=False)
    finally:
        if store is not None:
            store.dispose()


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # not built for this platform (Windows): asyncio's own
        return "asyncio"
    return "uvloop"
