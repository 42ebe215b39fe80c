"""Every built-in signal type, and a plug-in, pass the shared contract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import pytest

from cvis.signals import SIGNAL_TYPES, InvalidSignalValue, register_signal_type
from cvis.signals.base import SignalType
from cvis.signals.crypto import Md5Signal, Sha1Signal, Sha256Signal
from cvis.signals.pdq import PdqSignal
from cvis.signals.vpdq import VpdqSignal
from tests.signal_type_test_helper import SignalTypeContract


class TestMd5(SignalTypeContract):
    signal_type = Md5Signal


class TestSha1(SignalTypeContract):
    signal_type = Sha1Signal


class TestSha256(SignalTypeContract):
    signal_type = Sha256Signal


class TestPdq(SignalTypeContract):
    signal_type = PdqSignal

    def test_distance_counts_bits(self) -> None:
        zero = "0" * 64
        assert PdqSignal.distance(zero, "f" + "0" * 63) == 4
        assert PdqSignal.distance(zero, "f" * 64) == 256


class TestVpdq(SignalTypeContract):
    signal_type = VpdqSignal

    def test_frames_are_stored_a_row_each_and_looked_up_as_pdq(self) -> None:
        (value, _) = VpdqSignal.examples
        rows = VpdqSignal.stored_values(value)
        assert len(rows) == 2 and VpdqSignal.from_stored(rows) == value
        assert VpdqSignal.index_entry(rows[0]) == ("pdq", rows[0].split(",")[0])
        assert VpdqSignal.index_entry(VpdqSignal.stored_values(VpdqSignal.examples[1])[0]) is None


class ToyPluginSignal(SignalType):
    """Stands for an out-of-tree signal (a PhotoDNA plug-in would look the same)."""

    name = "toy_plugin"
    media_kinds = frozenset({"image"})
    default_threshold = 2
    examples = ("00ff00ff00ff00ff", "00ff00ff00ff00fe")

    @classmethod
    def validate(cls, value: str) -> str:
        normal = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{16}", normal):
            raise InvalidSignalValue(f"toy_plugin must be 16 hex characters, got {value!r}")
        return normal

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return (int(a, 16) ^ int(b, 16)).bit_count()


@pytest.fixture(autouse=True)
def _registered_plugin() -> Iterator[None]:
    register_signal_type(ToyPluginSignal)
    yield
    SIGNAL_TYPES.pop(ToyPluginSignal.name, None)


class TestPlugin(SignalTypeContract):
    signal_type: ClassVar[type[SignalType]] = ToyPluginSignal
