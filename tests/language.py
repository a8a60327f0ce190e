"""One language at a time (issue #14): find words of the other language in what gisrenew shows.

:func:`foreign_words` takes a text a user sees and the language it should be in, and
returns the words of the other language it holds — English words in Chinese output,
Chinese characters in English output — leaving out the names that come from the data
(:func:`data_strings`: every text value of the project's layers and input files, which
gisrenew shows as written), and the symbols and proper names any output may hold
(units, standards, product names).

:func:`page_texts` reads what a map page shows in a browser: the page's text (title
box, legend, layer control, attribution) and every feature's popup and tooltip, built
by the page's own script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyogrio

#: Words any Chinese output may hold: symbols of units, standards, formats and names.
ALLOWED_IN_ZH = frozenset(
    {
        "m", "km", "ms", "EPSG", "GB", "CJJ", "CSV", "GCJ", "WGS", "Leaflet", "OpenStreetMap",
        "AutoNavi", "gisrenew", "v", "Excel", "SHA",
    }
)  # fmt: skip

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
_FILE = re.compile(r"\S+\.(?:gpkg|csv|xlsx|html|json|shp|toml|png)\b", re.I)

#: Values of these columns are gisrenew's own codes (translated by gisrenew), not names.
_CODE_COLUMNS = {"plan_type", "park_class", "land_use", "walkable", "level", "road_class"}


def data_strings(*sources: Path, layers: Iterable[str] | None = None) -> set[str]:
    """Every text value in the layers of `sources` (GeoPackages, Shapefiles): names, ids.

    gisrenew shows names, ids and statuses from the data as written, in whatever
    language the planner wrote them; codes gisrenew names itself (plan types, park
    classes) are not exempt. `layers`: only these layers (a project store also holds
    gisrenew's own result layers, whose words are not names).
    """
    found: set[str] = set()
    wanted = None if layers is None else set(layers)
    for source in sources:
        for layer in pyogrio.list_layers(source)[:, 0]:
            if wanted is not None and layer not in wanted:
                continue
            frame = pyogrio.read_dataframe(source, layer=layer, read_geometry=False)
            for name in frame.columns:
                column = frame[name]
                text = column.dtype == object or pd.api.types.is_string_dtype(column.dtype)
                if name in _CODE_COLUMNS or not text:
                    continue
                found.update(str(v) for v in column.dropna().unique() if str(v).strip())
    found.discard("")
    return found


def _without_names(text: str, names: Iterable[str]) -> str:
    """`text` with every occurrence of a name blanked out (the longest one at each place),
    in one pass over a trie of the names."""
    trie: dict = {}
    for name in names:
        if name:
            node = trie
            for char in name:
                node = node.setdefault(char, {})
            node[""] = len(name)
    out, i, n = [], 0, len(text)
    while i < n:
        node, j, found = trie, i, 0
        while j < n and text[j] in node:
            node = node[text[j]]
            j += 1
            found = node.get("", found)
        if found:
            out.append(" ")
            i += found
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _strip(text: str, names: Iterable[str], paths: Iterable[str]) -> str:
    for path in sorted(set(paths), key=len, reverse=True):  # a folder and what follows it
        if path:
            text = re.sub(re.escape(path) + r"\S*", " ", text)
    text = _without_names(text, names)
    text = _FILE.sub(" ", text)
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"\b[0-9a-f]{12,}\b", " ", text)  # checksums
    return text.replace("km/h", " ")


def foreign_words(
    text: str, lang: str, *, names: Iterable[str] = (), paths: Iterable[str] = ()
) -> list[str]:
    """The words of the other language in `text` (names from the data and paths left out).

    Parameters
    ----------
    text : str
        What a user sees.
    lang : {"zh", "en"}
        The language it must be in.
    names : iterable of str
        Names from the data (:func:`data_strings`), the project's name, rule-set names.
    paths : iterable of str
        Folders and files the output names (a working copy, an output folder).
    """
    text = "\n".join(dict.fromkeys(text.splitlines()))  # each line once
    text = _strip(text, names, paths)
    if lang == "en":
        return sorted({m.group(0) for m in re.finditer(f"{_CJK.pattern}+", text)})
    words = {m.group(0) for m in _WORD.finditer(text)}
    return sorted(w for w in words if w not in ALLOWED_IN_ZH and len(w) > 1)


def lines_with(text: str, words: Iterable[str], limit: int = 8) -> str:
    """The first lines of `text` holding any of `words` (for a failure message)."""
    words = list(words)
    hits = [line for line in text.splitlines() if any(w in line for w in words)]
    return "\n".join(hits[:limit])


_PAGE_TEXT_JS = """
() => {
    const out = new Set([document.body.innerText]);
    const gr = window.gisrenew;
    if (!gr) { return Array.from(out); }
    const box = document.createElement('div');
    const text = (html) => { box.innerHTML = html; return box.textContent; };
    for (const layer of Object.values(gr.layers)) {
        layer.eachLayer((l) => {
            const popup = l.getPopup && l.getPopup();
            if (popup) {
                const c = popup._content;
                out.add(text(typeof c === 'function' ? c(l) : c));
            }
            const tip = l.getTooltip && l.getTooltip();
            if (tip) { out.add(text(tip._content)); }
        });
    }
    return Array.from(out);
}
"""


def page_texts(map_browser, path: Path) -> list[str]:
    """What the page at `path` shows (with every network request blocked): its text,
    every popup and every tooltip."""
    page = map_browser.context.new_page()
    try:
        page.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(("file:", "data:")) else
                route.abort()
            ),
        )  # fmt: skip
        page.goto(path.resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(100)
        return page.evaluate(_PAGE_TEXT_JS)
    finally:
        page.close()
