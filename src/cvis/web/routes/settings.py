"""Each examiner's wellbeing settings, and "I took a break"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response

from cvis.web.render import page, see_other
from cvis.web.routes.common import ServicesDep, touch
from cvis.web.session import FormUserDep, UserDep, session_started
from cvis.web.wellbeing import (
    LIMITS,
    SettingsError,
    exposure,
    preferences,
    save_preferences,
    take_break,
)

router = APIRouter()


def _settings_page(
    request: Request, services: ServicesDep, user: UserDep, *, status: int = 200,
    **context: Any,
) -> Response:
    started = session_started(services, user)
    with services.store.session() as session:
        prefs = preferences(session, user.name)
        seen = exposure(session, user.name, user.session_id, started, prefs)
    return page(request, "settings.html", user, title="Wellbeing settings", prefs=prefs,
                exposure=seen, limits=LIMITS, http_status=status, **context)


@router.get("/settings")
def settings_page(request: Request, services: ServicesDep, user: UserDep) -> Response:
    touch(request, f"settings:{user.name}", "web.settings")
    return _settings_page(request, services, user)


@router.post("/settings")
def settings_save(
    request: Request, services: ServicesDep, user: FormUserDep,
    break_minutes: Annotated[int, Form()],
    daily_cap: Annotated[int, Form()],
    blur: Annotated[bool, Form()] = False,
    greyscale: Annotated[bool, Form()] = False,
) -> Response:
    touch(request, f"settings:{user.name} blur={blur} greyscale={greyscale} "
                   f"break={break_minutes} cap={daily_cap}", "web.settings.save")
    try:
        with services.store.session() as session:
            save_preferences(session, user.name, blur=blur, greyscale=greyscale,
                             break_minutes=break_minutes, daily_cap=daily_cap)
    except SettingsError as exc:
        request.state.audit_outcome = "failure"
        return _settings_page(request, services, user, error=str(exc), status=400)
    return _settings_page(request, services, user, notice="Settings saved.")


@router.post("/settings/break")
def took_break(
    request: Request, services: ServicesDep, user: FormUserDep,
    back: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    touch(request, f"settings:{user.name} break", "web.break")
    with services.store.session() as session:
        take_break(session, user.name)
    return see_other(back if back.startswith("/") and not back.startswith("//") else "/")
