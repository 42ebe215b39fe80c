"""Trust figures: concurrent wrong passwords (how many are checked) and logon timing for
unknown vs known users, with production argon2 parameters, on SQLite or PostgreSQL.

    .venv/bin/python benchmarks/trust.py [--database-url URL] [--attempts 60] [--timing 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import cvis.accounts.service as accounts
from cvis.accounts.service import AuthenticationFailed, add_agency, add_user, logon
from cvis.config import Settings
from cvis.store.db import Store


def concurrent_wrong_passwords(store: Store, user: str, attempts: int) -> tuple[int, float]:
    checked, lock = [0], threading.Lock()
    real = accounts.password_matches

    def counting(stored: str | None, password: str) -> bool:
        with lock:
            checked[0] += 1
        return real(stored, password)

    accounts.password_matches = counting  # type: ignore[assignment]
    barrier = threading.Barrier(attempts)

    def attempt() -> None:
        barrier.wait()
        try:
            logon(store, user, "not the password!", "000000")
        except AuthenticationFailed:
            pass

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accounts.password_matches = real  # type: ignore[assignment]
    return checked[0], time.perf_counter() - start


def logon_ms(store: Store, user: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            logon(store, user, "not the password!", "000000")
        except AuthenticationFailed as exc:
            message = str(exc)
        times.append((time.perf_counter() - start) * 1000)
    print(f"  answer for {user!r}: {message!r}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--attempts", type=int, default=60)
    parser.add_argument("--timing", type=int, default=10)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp())
    store = Store(Settings(home, args.database_url or f"sqlite:///{home / 'cvis.db'}"))
    with store.session() as session:
        add_agency(session, "Bench")
        for name in ("target", "timed"):
            add_user(session, name, "Bench", "analyst", "a long benign passphrase")
    backend = store.engine.dialect.name
    for attempts in (30, args.attempts):
        with store.session() as session:
            session.execute(accounts.update(accounts.User).values(failed_logons=0,
                                                                  locked_until=None))
        checked, seconds = concurrent_wrong_passwords(store, "target", attempts)
        print(f"{backend}: {attempts} concurrent wrong passwords -> {checked} checked "
              f"({seconds:.2f} s)")
    unknown = logon_ms(store, "no-such-user", args.timing)
    known = logon_ms(store, "timed", min(args.timing, 4))  # 5th would lock; then locked
    locked = logon_ms(store, "timed", args.timing)
    for label, times in (("unknown user", unknown), ("known user, wrong password", known),
                         ("known user, locked", locked)):
        print(f"{backend}: {label}: median {statistics.median(times):.0f} ms "
              f"(min {min(times):.0f}, max {max(times):.0f}, n={len(times)})")
    store.dispose()


if __name__ == "__main__":
    main()
