"""Who is acting, built the same way for every edge: API/web principals and the CLI operator."""

from __future__ import annotations

import os
import pwd
from typing import TYPE_CHECKING

from cvis.policy import Actor

if TYPE_CHECKING:
    from cvis.accounts.service import Principal

LOCAL_OPERATOR_ROLE = "local-operator"
CLAIMED_NAME_ENV = "CVIS_USER"
AGENCY_ENV = "CVIS_AGENCY"


def from_principal(principal: Principal) -> Actor:
    """An authenticated API or web caller."""
    return Actor(
        name=principal.user, agency=principal.agency, role=principal.role,
        rights=frozenset(principal.permissions), purpose=principal.purpose,
        interactive=principal.interactive,
    )


def os_account() -> str:
    """The operating-system account running the command: ``uid:name``, the name looked up
    from the uid (LOGNAME and USER can be set by anyone; the uid cannot)."""
    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry in some containers
        name = "unknown"
    return f"{uid}:{name}"


def local_operator(claimed: str | None = None, purpose: str = "") -> Actor:
    """The CLI's actor: the OS account on the machine that holds the store.

    A name given with ``--examiner`` or CVIS_USER is kept as ``claimed``, never instead.
    """
    from cvis.accounts.roles import ALL_PERMISSIONS

    return Actor(
        name=f"os:{os_account()}", agency=os.environ.get(AGENCY_ENV, ""),
        role=LOCAL_OPERATOR_ROLE, rights=frozenset(ALL_PERMISSIONS), purpose=purpose,
        claimed=claimed or os.environ.get(CLAIMED_NAME_ENV, ""),
    )
