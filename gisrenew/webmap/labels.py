"""The web maps' labels: the ``map.*`` part of :mod:`gisrenew.present.labels`.

One vocabulary for everything gisrenew shows lives in :mod:`gisrenew.present.labels`;
this module keeps the maps' short keys (``label("coverage_title", "zh")``) and re-exports
the language helpers. Labels are trusted constants; they still go through
:func:`gisrenew.webmap.escape.escape_text` like every other text on a page.
"""

from __future__ import annotations

from gisrenew.present import labels as _vocabulary
from gisrenew.present.labels import LANGS, PARK_CLASS_NAMES, detect_lang, resolve_lang

__all__ = ["LANGS", "PARK_CLASS_NAMES", "detect_lang", "label", "resolve_lang"]


def label(key: str, lang: str) -> str:
    """Return the map label `key` in language `lang` (``present.labels`` key ``map.<key>``)."""
    return _vocabulary.label(f"map.{key}", lang)
