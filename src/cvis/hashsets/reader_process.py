"""Parse a big hash list in a second process while this one writes the database.

Parsing and validating a record costs about as much as storing it, so on two or more cores
a separate reader nearly halves an import. The reader is ``python -m`` this module: it
pickles column batches to its stdout, and the pipe's small buffer is the back-pressure that
keeps memory flat. It ends with "done" or with the exception that stopped it, which is
raised again here. (Not multiprocessing: its spawn mode re-runs the caller's main script.)
Signal types registered by plug-ins are named to the child, which imports them too.
"""

from __future__ import annotations

import gc
import importlib
import io
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from cvis.hashsets.formats import get_format
from cvis.hashsets.staging import BATCH_RECORDS, StagedBatch, stage_records
from cvis.signals import SIGNAL_TYPES, register_signal_type

_BUILT_IN_SIGNALS = frozenset(SIGNAL_TYPES)
# Batches parsed ahead of the writer (about 20 MB at 20,000 records a batch).
READ_AHEAD_BATCHES = 16


class ReaderFailed(RuntimeError):
    """The reader process died without saying why (killed, out of memory)."""


@contextmanager
def open_list(path: Path) -> Iterator[tuple[TextIO, Callable[[], int]]]:
    """The list as text (a BOM dropped) and a function telling how many bytes were read."""
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        yield text, raw.tell


def plugin_signal_paths() -> list[str] | None:
    """``module:class`` of each plug-in signal type, or None if one cannot be imported by name
    (defined in a script or a function), in which case only this process can read."""
    paths = []
    for name, signal in SIGNAL_TYPES.items():
        if name in _BUILT_IN_SIGNALS:
            continue
        if signal.__module__ == "__main__" or "<locals>" in signal.__qualname__:
            return None
        paths.append(f"{signal.__module__}:{signal.__qualname__}")
    return paths


def read_in_process(
    path: Path, format_name: str, batch_records: int = BATCH_RECORDS
) -> Iterator[StagedBatch]:
    """The list's batches, parsed by a child process; stops the child if the caller stops."""
    plugins = plugin_signal_paths()
    if plugins is None:
        raise ValueError("a plug-in signal type is not importable by name; read in-process")
    # The child imports what this process can: same interpreter, same module search path.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, "-m", __name__, str(path), format_name, str(batch_records), *plugins],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env,
    )
    assert child.stdout is not None
    messages: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=READ_AHEAD_BATCHES)
    stop = threading.Event()
    pump = threading.Thread(target=_pump, args=(child.stdout, messages, stop), daemon=True)
    pump.start()
    try:
        while True:
            kind, payload = messages.get()
            if kind == "batch":
                yield payload
            elif kind == "failed":
                raise payload
            elif kind == "ended":
                raise ReaderFailed(
                    f"the list reader stopped unexpectedly (exit code {child.wait()})"
                )
            else:
                return
    finally:
        stop.set()
        if child.poll() is None:
            child.kill()  # the pump then reads the end of the pipe and stops
        pump.join()
        child.stdout.close()
        child.wait()


def _pump(pipe: BinaryIO, messages: queue.Queue[tuple[str, Any]], stop: threading.Event) -> None:
    """Move the child's messages into the queue until the last one or until told to stop.

    The queue lets the child parse on while this process spends seconds in one big write;
    without it the pipe fills and the child waits.
    """
    while not stop.is_set():
        try:
            message = pickle.load(pipe)
        except EOFError:
            message = ("ended", None)
        except Exception as exc:  # noqa: BLE001 - a garbled pipe ends the import, clearly
            message = ("failed", ReaderFailed(f"unreadable message from the list reader: {exc}"))
        while not stop.is_set():
            try:
                messages.put(message, timeout=0.1)
                break
            except queue.Full:
                continue
        if message[0] != "batch":
            return


def _register_plugins(paths: list[str]) -> None:
    for path in paths:
        module, _, qualname = path.partition(":")
        signal: Any = importlib.import_module(module)
        for part in qualname.split("."):
            signal = getattr(signal, part)
        register_signal_type(signal)


def _read_and_send(path: str, format_name: str, batch_records: int, plugins: list[str],
                   out: BinaryIO) -> None:
    def send(kind: str, payload: Any) -> None:
        pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        _register_plugins(plugins)
        fmt = get_format(format_name)
        with open_list(Path(path)) as (stream, position):
            for batch in stage_records(fmt.read(stream), batch_records, position):
                send("batch", batch)
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
        send("failed", _sendable(exc))
    else:
        send("done", None)
    out.flush()


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any pickling problem means: send the text instead
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


if __name__ == "__main__":
    # Nothing the reader makes holds a reference cycle, and the collector's passes over
    # millions of short-lived records cost more than the parsing itself.
    gc.disable()
    try:
        _read_and_send(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:],
                       sys.stdout.buffer)
    except BrokenPipeError:  # the parent stopped reading (it failed or was interrupted)
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C reaches both processes; the parent reports it
        sys.exit(130)
