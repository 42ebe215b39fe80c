"""Pages from templates (one Jinja environment per language) and the page cache."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image, ImageDraw

from cvis.portal.i18n import translations

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment(language: str) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def render(template: str, language: str, **context: Any) -> bytes:
    return environment(language).get_template(template).render(
        lang=language, **context).encode()


@dataclass
class Page:
    body: bytes
    media_type: str
    status: int = 200

    @cached_property
    def etag(self) -> str:
        return '"' + hashlib.blake2b(self.body, digest_size=12).hexdigest() + '"'


class PageCache:
    """Rendered pages by key, dropped whenever the publication version moves.

    The version (the newest publication event) is read at most every ``seconds``, so a
    published change is on every page within that time and most requests touch no database.
    """

    def __init__(self, version: Callable[[], int], seconds: float = 1.0) -> None:
        self._version, self.seconds = version, seconds
        self._pages: dict[tuple[str, ...], Page] = {}
        self._seen, self._checked = -1, 0.0

    def _fresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.seconds:
            return
        self._checked = now
        current = self._version()
        if current != self._seen:
            self._pages.clear()
            self._seen = current

    def peek(self, key: tuple[str, ...]) -> Page | None:
        """The cached page, if any, without building it."""
        self._fresh()
        return self._pages.get(key)

    def get(self, key: tuple[str, ...], build: Callable[[], Page]) -> Page:
        self._fresh()
        page = self._pages.get(key)
        if page is None:
            page = build()
            if len(self._pages) > 5000:
                self._pages.clear()
            self._pages[key] = page
        return page

    def clear(self) -> None:
        self._pages.clear()
        self._checked = 0.0


@lru_cache(maxsize=4)
def icon(size: int) -> bytes:
    """The app icon, drawn here (no binary files shipped)."""
    image = Image.new("RGB", (size, size), "#0b3d91")
    draw = ImageDraw.Draw(image)
    pad = size // 5
    draw.ellipse((pad, pad, size - pad, size - pad), outline="#ffffff", width=max(2, size // 16))
    draw.line((size // 2, pad + size // 8, size // 2, size - pad - size // 8), fill="#ffffff",
              width=max(2, size // 16))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
