"""English and Spanish: Babel catalogues (compiled .mo shipped beside the .po)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "es")
DEFAULT = "en"
DOMAINS = ("messages", "complaints")  # complaints: the redress pages' own catalogue


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT:
        return NullTranslations()
    found = Translations.load(str(LOCALE_DIR), [language], domain=DOMAINS[0])
    for domain in DOMAINS[1:]:
        found.add_fallback(Translations.load(str(LOCALE_DIR), [language], domain=domain))
    return found


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


def negotiate(asked: str | None, accept_language: str = "") -> str:
    """An explicit ?lang= wins, then the browser's first supported language."""
    if asked in LANGUAGES:
        return asked
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def extract_messages() -> list[str]:
    """Every message the portal translates (templates and Python), for the catalogues."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    keywords = {**DEFAULT_KEYWORDS, "gettext": (2,)}
    method_map = [("templates/**.html", "jinja2.ext:babel_extract"), ("*.py", "python")]
    found = extract_from_dir(str(Path(__file__).parent), method_map, keywords=keywords,
                             options_map={"templates/**.html": {"trimmed": "true"}})
    return sorted({message for _file, _line, message, _comments, _context in found
                   if isinstance(message, str) and message})
