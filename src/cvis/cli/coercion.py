"""Plain command-line values without typer's pydantic layer.

typer coerces every parameter through a pydantic TypeAdapter built on first use:
importing pydantic and building the adapters was about a fifth of the start-up of a
light command (`cvis hash` of one file). A value that needs no checking (a default
already of its type, a string, a path with no checks asked of it) is passed through
here as pydantic would give it; anything else still goes to typer, with its messages.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer import core as typer_core
from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param

_CONVERTED = (str, Path)  # from any string, never refused
_KEPT = (int, float, bool)  # passed through only when already of the type (a default)


def _target(annotation: Any) -> tuple[type, bool] | None:
    """The element type and whether it is a list, for the shapes handled here."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            return None
        return _target(members[0])
    if origin is list:
        (element,) = typing.get_args(annotation) or (None,)
        return (element, True) if element in _CONVERTED else None
    return (annotation, False) if annotation in _CONVERTED + _KEPT else None


def _checks_asked(descriptor: TypeDescriptor) -> bool:
    info = descriptor.parameter_info
    return bool(descriptor.file_annotation is not None or info.parser is not None
                or info.exists or info.resolve_path or info.allow_dash
                or info.path_type is not None)


@dataclass(frozen=True)
class _PlainParam(RuntimeParam):
    descriptor: TypeDescriptor
    element: type
    many: bool

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if self.many and isinstance(value, list | tuple):
            if all(isinstance(v, str | Path) for v in value):
                return [self.element(v) for v in value]
        elif not self.many:
            if type(value) is self.element and self._in_range(value):
                return value
            if self.element in _CONVERTED and isinstance(value, str | Path):
                return self.element(value)
        # Anything else is typer's to check and to word the error.
        return build_runtime_param(self.descriptor)._coerce_value(value, param, ctx)

    def _in_range(self, value: Any) -> bool:
        if self.element not in (int, float):
            return True
        low, high = self.parameter_info.min, self.parameter_info.max
        return (low is None or value >= low) and (high is None or value <= high)


def plain_or_typer(descriptor: TypeDescriptor) -> RuntimeParam:
    target = None if _checks_asked(descriptor) else _target(descriptor.annotation)
    if target is None:
        return build_runtime_param(descriptor)
    return _PlainParam(descriptor.parameter_info, descriptor.annotation, descriptor, *target)


def install() -> None:
    """Route typer's parameter coercion through ``plain_or_typer`` (where typer has the
    hook: a release without it is left as it is)."""
    if getattr(typer_core, "build_runtime_param", None) is build_runtime_param:
        typer_core.build_runtime_param = plain_or_typer
