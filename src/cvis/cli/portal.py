"""`cvis public` (the public portal) and `cvis poster` (publishing most-wanted posters)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cvis.cli import render
from cvis.policy import AccessDenied
from cvis.policy.actors import local_operator
from cvis.portal import service
from cvis.portal.posters import PosterInvalid, UnknownPoster
from cvis.portal.settings import load_portal_settings
from cvis.store.db import Store

public_app = typer.Typer(help="The public portal: posters, tips, alerts, registries.",
                         no_args_is_help=True)
poster_app = typer.Typer(help="Most-wanted posters: publish, update, withdraw.",
                         no_args_is_help=True)


@public_app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the public portal (its own app: published records only)."""
    import uvicorn

    Store().dispose()  # migrate once here, not racing in every worker
    # uvloop and httptools (uvicorn[standard]) when installed; no access log on the hot path
    uvicorn.run("cvis.portal.app:create_public_app", host=host, port=port, workers=workers,
                log_level=log_level, factory=True, access_log=False, backlog=4096)


@public_app.command("refresh-registries")
def refresh_command() -> None:
    """Fetch every connected jurisdiction's daily copy (searched when it is down)."""
    settings = load_portal_settings()
    render.write_jsonl([service.refresh_registries(Store(settings.store), settings,
                                                   local_operator())], render.stdout())


def _run(action: service.Action) -> None:
    settings = load_portal_settings()
    try:
        published = action(Store(settings.store), settings)
    except PosterInvalid as exc:
        render.error(str(exc))
        raise typer.Exit(2) from None
    except (UnknownPoster, AccessDenied) as exc:
        render.error(str(exc) if isinstance(exc, UnknownPoster) else f"refused: {exc}")
        raise typer.Exit(1) from None
    render.write_jsonl([published.to_dict()], render.stdout())


@poster_app.command("publish")
def publish_command(
    file: Annotated[Path, typer.Argument(help="The poster JSON a person approved.")],
) -> None:
    """Publish a poster; prints {"poster_id", "url"}. Subscribers near its areas are alerted."""
    _run(lambda store, settings: service.publish(store, settings, local_operator(), file))


@poster_app.command("update")
def update_command(
    poster_id: Annotated[str, typer.Argument(help="The poster's id.")],
    file: Annotated[Path, typer.Argument(help="The whole poster JSON, as now approved.")],
) -> None:
    """Replace a poster's content (a CAP Update)."""
    _run(lambda store, settings: service.update(store, settings, local_operator(), poster_id,
                                                file))


@poster_app.command("captured")
def captured_command(
    poster_id: Annotated[str, typer.Argument(help="The poster's id.")],
    note: Annotated[str, typer.Option(help="Shown on the banner.")] = "captured",
) -> None:
    """Mark a poster captured: a banner, then off the list after a while (a CAP Update)."""
    _run(lambda store, settings: service.captured(store, settings, local_operator(), poster_id,
                                                  note))


@poster_app.command("withdraw")
def withdraw_command(
    poster_id: Annotated[str, typer.Argument(help="The poster's id.")],
    reason: Annotated[str, typer.Option(help="Why (audited; sent with the CAP Cancel).")],
) -> None:
    """Withdraw a poster: off the site, and the CAP feed carries a Cancel."""
    _run(lambda store, settings: service.withdraw(store, settings, local_operator(), poster_id,
                                                  reason))
