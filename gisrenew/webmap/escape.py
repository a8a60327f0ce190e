"""The one escaping function for every text that reaches a web page.

Attribute values, layer names, legend captions, titles and table cells all pass
through :func:`escape_text` before they are put into a page — no other code in
:mod:`gisrenew.webmap` writes user text into HTML or JavaScript.

Why one function is enough: its output contains no character that means
anything in any of the places text ends up in a Leaflet page —

* HTML text and attribute values: ``& < > " '`` become character references;
* JavaScript template literals (folium puts popup and tooltip HTML inside
  backticks, where ``${...}`` runs code and a backslash or backtick ends or
  breaks the literal): ``$``, backtick and backslash become ``&#36;``, ``&#96;``
  and ``&#92;``, which the browser shows as the original characters once the
  HTML is parsed;
* JavaScript strings and JSON (layer names, GeoJSON properties): the output
  has no quote, backslash or line break left, and :func:`script_json` encodes
  ``<`` and ``>`` so no text can close a ``<script>`` element.

Line breaks and other control characters become character references too, so a
value cannot end a line inside generated JavaScript.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["escape_column", "escape_text", "escape_texts", "script_json"]

# Characters that are replaced by numeric character references. ``&`` must be
# handled first (it is, by the single-pass regex below).
_REPLACEMENTS = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "`": "&#96;",
    "$": "&#36;",
    "\\": "&#92;",
    "{": "&#123;",
    "}": "&#125;",
    "\u2028": "&#8232;",
    "\u2029": "&#8233;",
}
_PATTERN = re.compile("[&<>\"'`$\\\\{}\u2028\u2029\x00-\x1f\x7f]")


def _replace(match: re.Match) -> str:
    char = match.group(0)
    try:
        return _REPLACEMENTS[char]
    except KeyError:  # control characters: tab and line breaks are kept as references
        return "" if char == "\x00" else f"&#{ord(char)};"


def escape_text(value: Any) -> str:
    """Return `value` as text that is safe everywhere in a generated map page.

    Parameters
    ----------
    value : Any
        Any value; ``None``, NaN and ``pandas.NA`` become an empty string, other
        values are converted with ``str()``.

    Returns
    -------
    str
        The text with every character that has a meaning in HTML, in a
        JavaScript string or template literal, or in JSON replaced by an HTML
        character reference. The browser displays the original text.

    Examples
    --------
    >>> escape_text('<img src=x onerror=alert(1)>')
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> escape_text("${alert(1)} C:\\\\users `x`")
    '&#36;&#123;alert(1)&#125; C:&#92;users &#96;x&#96;'
    >>> escape_text(None)
    ''
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return _PATTERN.sub(_replace, str(value))


def escape_column(values: Iterable[Any]) -> tuple[np.ndarray, list[str]]:
    """:func:`escape_text` of a column, as codes into its distinct escaped values.

    Each distinct value is escaped once (a column of 100 000 popup values has a few
    thousand distinct ones). Text is compared exactly; a column holding anything but
    text is escaped value by value.

    Returns
    -------
    codes : numpy.ndarray of int32
        For each value, the index of its escaped text in `uniques`.
    uniques : list of str
        The distinct escaped texts.

    Examples
    --------
    >>> codes, uniques = escape_column(["<b>", "a", "<b>"])
    >>> codes.tolist(), uniques
    ([0, 1, 0], ['&lt;b&gt;', 'a'])
    """
    values = _objects(values)
    if len(values) and pd.api.types.infer_dtype(values, skipna=False) == "string":
        codes, distinct = pd.factorize(values)
        if _PATTERN.search("".join(distinct)) is None:
            return codes.astype(np.int32), [str(v) for v in distinct]  # nothing to escape
        return codes.astype(np.int32), [escape_text(v) for v in distinct]
    escaped = [escape_text(v) for v in values]
    codes, distinct = pd.factorize(np.asarray(escaped, dtype=object))
    return codes.astype(np.int32), list(distinct)


def _objects(values: Iterable[Any]) -> np.ndarray:
    """`values` as a one-dimensional object array (a copy only when they are not one)."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    out = np.empty(len(values := list(values)), dtype=object)
    out[:] = values
    return out


def escape_texts(values: Iterable[Any]) -> list[str]:
    """:func:`escape_text` of each value of a column (each distinct text escaped once)."""
    codes, uniques = escape_column(values)
    if not len(codes):
        return []
    return np.asarray(uniques, dtype=object)[codes].tolist()


def script_json(obj: Any) -> str:
    """Serialize `obj` as JSON that can be placed inside an HTML ``<script>`` element.

    Text values must already be escaped with :func:`escape_text`; this only makes
    the JSON document itself safe in a script element (``<``, ``>`` and the JavaScript
    line separators U+2028/U+2029 are written as ``\\uXXXX`` escapes) and refuses
    NaN/Infinity, which are not JSON.
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
