"""Web maps planners publish: coverage, blind spots, renewal plans, before/after.

Builders draw results computed by the engines (a coverage result, the plan indicators,
the change of a recompute) and return :class:`folium.Map` objects that show themselves
self-contained in Jupyter; :func:`save_map` writes them (one self-contained HTML file
unless ``offline=False``), :func:`life_circle_map` draws the community life circles
社区生活圈, and :func:`publish_site` writes a static site of maps — with a
before/after map per recompute run — an index page and the CSV tables behind them.
Nothing here computes an indicator. Modules: :mod:`~gisrenew.webmap.page` (what every
page is made of), :mod:`~gisrenew.webmap.layers` (the layers and their popups),
:mod:`~gisrenew.webmap.maps` (the builders), :mod:`~gisrenew.webmap.publish`.

Every text reaching a page is escaped by :func:`escape_text`; vectors are shifted
to GCJ-02 for Gaode tiles (:mod:`gisrenew.webmap.gcj02`).
"""

from gisrenew.webmap.assets import MapAssetError, inline_assets
from gisrenew.webmap.basemaps import BASEMAP_NAMES, Basemap, get_basemap
from gisrenew.webmap.escape import escape_text, script_json
from gisrenew.webmap.gcj02 import gcj02_to_wgs84, shift_geometries, wgs84_to_gcj02
from gisrenew.webmap.lifecircles import life_circle_map
from gisrenew.webmap.maps import (
    MapOptions,
    before_after_map,
    coverage_map,
    map_html,
    plans_map,
    save_map,
)
from gisrenew.webmap.publish import publish_site

__all__ = [
    "BASEMAP_NAMES",
    "Basemap",
    "MapAssetError",
    "MapOptions",
    "before_after_map",
    "coverage_map",
    "escape_text",
    "gcj02_to_wgs84",
    "get_basemap",
    "inline_assets",
    "life_circle_map",
    "map_html",
    "plans_map",
    "publish_site",
    "save_map",
    "script_json",
    "shift_geometries",
    "wgs84_to_gcj02",
]
