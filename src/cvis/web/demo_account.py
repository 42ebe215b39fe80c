"""A sign-in for the demo data: one examiner of the demo case's agency, benign data only."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select

from cvis.accounts.credentials import hash_password
from cvis.accounts.service import add_agency, add_user
from cvis.api.settings import ServiceSettings, load_service_settings
from cvis.store.db import Store
from cvis.store.models import Agency, User

DEMO_AGENCY = "Demo Agency"  # the demo case's agency (cvis.demo)
DEMO_USER = "demo"  # the demo case names "demo" as its examiner (cvis.demo)
DEMO_PASSWORD = "benign-sample-photos-only"
DEMO_ROLE = "supervisor"  # an examiner who may also read the agency's audit records


@dataclass(frozen=True)
class DemoAccount:
    user: str
    password: str
    totp_secret: str


def ensure_demo_account(store: Store) -> DemoAccount:
    """Create the demo agency and user if missing; reset the user's password and lockout."""
    with store.session() as session:
        if session.scalar(select(Agency).where(Agency.name == DEMO_AGENCY)) is None:
            add_agency(session, DEMO_AGENCY)
        user = session.scalar(select(User).where(User.name == DEMO_USER))
        if user is None:
            user, _ = add_user(session, DEMO_USER, DEMO_AGENCY, DEMO_ROLE, DEMO_PASSWORD)
        user.password_hash = hash_password(DEMO_PASSWORD)
        user.failed_logons, user.locked_until, user.disabled = 0, None, False
        return DemoAccount(DEMO_USER, DEMO_PASSWORD, user.totp_secret or "")


def demo_service_settings(store: Store) -> ServiceSettings:
    """The deployment's settings, with the demo's registry cross-match (the two generated
    months `cvis demo` links, in DEMO/fusion/linkage) reviewed by the demo agency."""
    base = load_service_settings()
    state = store.settings.home / "demo" / "fusion" / "linkage"
    return replace(base, linkage_state=base.linkage_state or (state if state.exists() else None),
                   linkage_agency=base.linkage_agency or DEMO_AGENCY)
