"""The password policy: long enough, and not on the list of common and breached passwords."""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 1000
DENYLIST_ENV = "CVIS_PASSWORD_DENYLIST"


class WeakPassword(ValueError):
    """A password the policy refuses, with the reason in words."""


@cache
def _denylist(extra: str) -> frozenset[str]:
    text = resources.files("cvis.accounts").joinpath("data/common-passwords.txt").read_text()
    if extra:
        text += "\n" + Path(extra).read_text(encoding="utf-8", errors="replace")
    return frozenset(
        line.strip().casefold() for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def check_password(password: str, user: str = "") -> str:
    """The password if the policy accepts it, else WeakPassword saying why."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password may have at most {MAX_LENGTH} characters")
    folded = password.casefold()
    if folded in _denylist(os.environ.get(DENYLIST_ENV, "")):
        raise WeakPassword("that password is on the list of common or breached passwords")
    if len(set(folded)) < 4:
        raise WeakPassword("a password needs more than three different characters")
    if user and user.casefold() in folded:
        raise WeakPassword("a password must not contain the user name")
    return password
