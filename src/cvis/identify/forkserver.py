"""The scan workers' fork server: what it preloads, and starting it before the pool needs it.

Light on purpose (the standard library only): the scan command starts the server first of
all, so that its imports run on the other core while the command's own run on this one.
"""

from __future__ import annotations

from typing import Any

# The fork server imports the decoders once, and what makes a worker's pictures cheaper but
# costs more to load than one `cvis hash` of a picture: the compiled PDQ passes (numba's JIT
# started) and pyarrow (decoded pixels without a copy); every worker forks from it warm.
WORKER_PRELOAD = ["cvis.identify.hashpool", "cvis.signals.pdqkernel", "pyarrow"]


def fork_server_context() -> Any:
    """The multiprocessing context of the scan's workers, its fork server preloading."""
    import multiprocessing  # here: `cvis hash` on one core starts no pool, imports none

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    return context


def start_fork_server() -> None:
    """Start the workers' fork server now, without waiting for it: its imports and numba's
    JIT (~2 s of CPU) run beside what the caller does before its pool starts, and the
    workers then fork warm at once. Idempotent; the server ends with this process."""
    from multiprocessing import forkserver

    fork_server_context()
    forkserver.ensure_running()
