"""Signal types (the kinds of hash cvis knows) and the registry that names them."""

from __future__ import annotations

import importlib
from typing import Any

from cvis.signals.base import InvalidSignalValue, PictureSignal, SignalType
from cvis.signals.crypto import Md5Signal, Sha1Signal, Sha256Signal
from cvis.signals.keypoints import OrbSignal
from cvis.signals.pdq import PdqSignal
from cvis.signals.vpdq import VpdqSignal

SIGNAL_TYPES: dict[str, type[SignalType]] = {
    s.name: s for s in (Md5Signal, Sha1Signal, Sha256Signal, PdqSignal, OrbSignal, VpdqSignal)
}
CRYPTO_SIGNALS = ("md5", "sha1", "sha256")
BUILT_IN_SIGNALS = frozenset(SIGNAL_TYPES)
_BY_HEX_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}


def get_signal_type(name: str) -> type[SignalType]:
    try:
        return SIGNAL_TYPES[name.lower()]
    except KeyError:
        known = ", ".join(sorted(SIGNAL_TYPES))
        raise InvalidSignalValue(f"unknown signal type {name!r} (known: {known})") from None


def register_signal_type(signal: type[SignalType]) -> None:
    """Plug-in hook: a proprietary signal (e.g. PhotoDNA) registers itself here."""
    SIGNAL_TYPES[signal.name] = signal


def picture_signals_paths() -> list[str]:
    """``module:qualname`` of every registered type that is not built in, for worker
    processes to register the same types (types defined in ``__main__`` cannot travel)."""
    return [
        f"{s.__module__}:{s.__qualname__}" for name, s in SIGNAL_TYPES.items()
        if name not in BUILT_IN_SIGNALS and s.__module__ != "__main__"
        and "<locals>" not in s.__qualname__
    ]


def register_by_path(paths: list[str]) -> None:
    """Register the signal types named ``module:qualname`` (in a worker process)."""
    for path in paths:
        module, _, qualname = path.partition(":")
        signal: Any = importlib.import_module(module)
        for part in qualname.split("."):
            signal = getattr(signal, part)
        register_signal_type(signal)


def picture_signal_types() -> list[type[SignalType]]:
    """Registered types computed from pictures beyond PDQ (see ``PictureSignal``)."""
    return [s for s in SIGNAL_TYPES.values() if issubclass(s, PictureSignal)]


def normalize(signal: str, value: str) -> str:
    """The one gate: every hash value passes here before storage or an index."""
    return get_signal_type(signal).validate(value)


def stored_rows(signals: dict[str, str]) -> list[tuple[str, str]]:
    """(signal, stored value) rows for a record's signals: one each, a vPDQ value a row per
    frame (``SignalType.stored_values``)."""
    rows = []
    for name, value in signals.items():
        signal = SIGNAL_TYPES.get(name)
        rows += [(name, v) for v in (signal.stored_values(value) if signal else [value])]
    return rows


def assemble(rows: list[tuple[str, str]]) -> dict[str, str]:
    """A record's signals from its stored rows, in row order: the first value of each signal,
    or the whole value a signal keeps in several rows (the inverse of ``stored_rows``)."""
    grouped: dict[str, list[str]] = {}
    for name, value in rows:
        grouped.setdefault(name, []).append(value)
    out = {}
    for name, values in grouped.items():
        signal = SIGNAL_TYPES.get(name)
        out[name] = signal.from_stored(values) if signal else values[0]
    return out


def guess_crypto_signal(value: str) -> str:
    """Tell md5/sha1/sha256 apart by length (64 hex reads as sha256; PDQ must be named)."""
    name = _BY_HEX_LENGTH.get(len(value.strip()))
    if name is None:
        raise InvalidSignalValue(
            f"cannot tell the hash type of {value.strip()!r}: expected 32, 40 or 64 hex characters"
        )
    return name


__all__ = [
    "assemble",
    "stored_rows",
    "CRYPTO_SIGNALS",
    "SIGNAL_TYPES",
    "BUILT_IN_SIGNALS",
    "InvalidSignalValue",
    "PictureSignal",
    "SignalType",
    "get_signal_type",
    "guess_crypto_signal",
    "normalize",
    "picture_signal_types",
    "picture_signals_paths",
    "register_by_path",
    "register_signal_type",
]
