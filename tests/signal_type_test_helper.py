"""The contract every signal type passes (after python-threatexchange's
``signal_type_test_helper.py``): subclass ``SignalTypeContract`` with the type
under test, and its own ``examples`` feed the checks."""

from __future__ import annotations

from typing import ClassVar

import pytest

from cvis.signals import SIGNAL_TYPES, InvalidSignalValue, normalize
from cvis.signals.base import SignalType

MEDIA_KINDS = {"image", "video", "file"}


class SignalTypeContract:
    signal_type: ClassVar[type[SignalType]]
    invalid_values: ClassVar[tuple[str, ...]] = ("", "not a hash", "zz" * 32, "0" * 3)

    def test_name_is_lowercase_and_registered(self) -> None:
        name = self.signal_type.name
        assert name and name == name.lower() and name.isidentifier()
        assert SIGNAL_TYPES.get(name) is self.signal_type

    def test_media_kinds_are_known(self) -> None:
        assert self.signal_type.media_kinds and self.signal_type.media_kinds <= MEDIA_KINDS

    def test_examples_validate_to_themselves(self) -> None:
        assert self.signal_type.examples
        for example in self.signal_type.examples:
            assert self.signal_type.validate(example) == example
            assert normalize(self.signal_type.name, example) == example

    def test_validation_is_idempotent_and_tolerates_case_and_space(self) -> None:
        for example in self.signal_type.examples:
            messy = f"  {example.upper()}\n"
            once = self.signal_type.validate(messy)
            assert self.signal_type.validate(once) == once == example

    def test_invalid_values_are_refused(self) -> None:
        for value in self.invalid_values:
            with pytest.raises(InvalidSignalValue):
                self.signal_type.validate(value)

    def test_distance_is_a_metric_on_examples(self) -> None:
        examples = self.signal_type.examples
        for a in examples:
            assert self.signal_type.distance(a, a) == 0
            for b in examples:
                assert self.signal_type.distance(a, b) == self.signal_type.distance(b, a)
                assert (self.signal_type.distance(a, b) == 0) == (a == b)

    def test_threshold_is_sane(self) -> None:
        threshold = self.signal_type.default_threshold
        assert threshold >= 0
        assert self.signal_type.is_exact() == (threshold == 0)
