"""Large polygon layers as a compact binary layer: a city's parcels drawn in a second.

A layer of tens of thousands of polygons (100 000 residential parcels) written as
GeoJSON text is ~15 MB of coordinates and ~10 MB of popup text, and Leaflet makes one
object per feature before it draws anything (a 35 MB page, 7–14 s before the first
draw, measured by ``benchmarks/bench_commands.py``). A *packed* layer instead carries:

* the geometry in the columnar layout of GeoArrow, made by
  :func:`shapely.to_ragged_array`: coordinates (longitude/latitude quantized to
  ``10**-precision`` degrees as 32-bit integers, each written as its difference from
  the previous one), ring, part and feature offsets — one deflated (zlib) array,
  ~1 MB for 100 000 parcels instead of 15 MB (:func:`pack_geometry`; kept apart from
  the rest, so a page whose parcels did not move reuses it: :mod:`~gisrenew.webmap.drawcache`);
* each popup column dictionary-encoded (:func:`pack_column`): its distinct values,
  escaped with :func:`~gisrenew.webmap.escape.escape_text`
  (:func:`~gisrenew.webmap.escape.escape_column`), as deflated JSON text, and one code
  per feature in a deflated array — each column apart, so a column that did not change
  (the parcels' names and areas after a park is added) is reused as it was;
* the style index of each feature, deflated (:func:`pack_styles`).

In the page (:data:`PACKED_JS`) the arrays are inflated by the browser's own
``DecompressionStream`` and drawn by Leaflet as **a few polygons per style class**
(64 neighbouring features of one class in one Leaflet polygon), on the page's one
renderer, in the layer's place in the drawing order. A click or hover finds the feature
under the pointer in the arrays (bounding boxes, then the even–odd rule) and opens its
popup or tooltip, assembled from the escaped values like every other layer's. So the
city draws at once at city zoom, and each parcel still answers with its own popup when
zoomed in. Measured choices for the geometry of 100 000 parcels
(``benchmarks/bench_maps.py``, 2026-12-03): GeoJSON text 15.0 MB; FlatGeobuf 17.1 MB
(12.8 MB without its index, 2.6 MB deflated, and a reader to inline); Mapbox vector
tiles at one zoom (GDAL's MVT writer, as PMTiles) 0.7 MB but 2.9 s to write, clipped at
tile edges and needing a tile reader; the packed arrays 1.2 MB in 0.2 s.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Sequence

import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from gisrenew.webmap.elements import DataLayer
from gisrenew.webmap.escape import escape_column, escape_text, script_json

__all__ = [
    "PACKED_JS",
    "PackedLayer",
    "PackedRuntime",
    "is_packable",
    "pack_column",
    "pack_geometry",
    "pack_layer",
    "pack_styles",
    "pack_values",
]

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
#: Every character base64 text may hold (a packed part is checked to hold nothing else).
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")


def is_packable(geoms: np.ndarray) -> bool:
    """Whether every geometry is a polygon or multipolygon (what a packed layer draws)."""
    return bool(len(geoms)) and bool(np.isin(shapely.get_type_id(geoms), _POLYGONAL).all())


def _deflated(data: bytes) -> str:
    """`data` compressed (zlib, the ``deflate`` of the Compression Streams standard), base64."""
    text = base64.b64encode(zlib.compress(data, 3)).decode("ascii")  # level 3: 0.05 s, 6: 0.14
    if _BASE64.fullmatch(text) is None:  # pragma: no cover - base64 is this set
        raise ValueError("base64 text outside its alphabet")
    return text


def pack_geometry(geoms: np.ndarray, precision: int) -> tuple[dict, str]:
    """The geometry part of a packed layer (what stays the same when only popups change).

    Parameters
    ----------
    geoms : numpy.ndarray of (multi)polygons
        In longitude/latitude, non-empty.
    precision : int
        Decimals of longitude/latitude kept (6 → ~0.1 m): coordinates are rounded to
        them, as :func:`numpy.round` does for the GeoJSON layers.

    Returns
    -------
    counts : dict
        ``coords``, ``rings``, ``parts``, ``features``, ``origin``, ``scale`` (what the
        page needs to read the geometry part).
    geometry : str
        Base64 of the deflated int32 arrays: coordinate differences, ring, part and
        feature offsets.
    """
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if kind == shapely.GeometryType.POLYGON:  # no multipolygon: one part per feature
        offsets = (*offsets, np.arange(len(geoms) + 1))
    rings, parts, features = offsets
    scale = 10**precision
    quantized = np.rint(coords * scale).astype(np.int64)  # longitude, latitude × scale
    origin = quantized.min(axis=0)
    steps = np.diff(quantized - origin, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    arrays = [steps.astype(np.int32).ravel(), rings, parts, features]
    counts = {
        "coords": len(coords),
        "rings": len(rings) - 1,
        "parts": len(parts) - 1,
        "features": len(features) - 1,
        "origin": [int(origin[0]), int(origin[1])],
        "scale": scale,
    }
    return counts, _deflated(_int32_bytes(arrays))


def pack_values(style_index: np.ndarray, columns: Sequence[Sequence]) -> tuple[str, list[str]]:
    """The style and popup parts of a packed layer.

    Parameters
    ----------
    style_index : numpy.ndarray of int
        Style of each feature.
    columns : sequence of sequence
        The popup values of each column, one per feature (escaped here).

    Returns
    -------
    binary : str
        Base64 of the deflated int32 style indices.
    columns : list of str
        :func:`pack_column` of each column, one after the other (codes, values, ...).
    """
    parts = [part for values in columns for part in pack_column(values)]
    return pack_styles(style_index), parts


def pack_styles(style_index: np.ndarray) -> str:
    """Base64 of the deflated int32 style index of each feature."""
    return _deflated(_int32_bytes([np.asarray(style_index)]))


def pack_column(values: Sequence) -> tuple[str, str]:
    """One popup column, dictionary-encoded: its codes and its distinct escaped values.

    Returns
    -------
    codes : str
        Base64 of the deflated int32 code of each feature.
    uniques : str
        Base64 of the deflated JSON list of the column's distinct escaped values.
    """
    codes, uniques = escape_column(values)
    text = json.dumps(uniques, ensure_ascii=False, separators=(",", ":"))
    return _deflated(_int32_bytes([codes])), _deflated(text.encode("utf-8"))


def _int32_bytes(arrays: Sequence[np.ndarray]) -> bytes:
    return b"".join(np.ascontiguousarray(a, dtype="<i4").tobytes() for a in arrays)


def pack_layer(
    geoms: np.ndarray,
    style_index: np.ndarray,
    columns: Sequence[Sequence],
    precision: int,
) -> tuple[dict, str, str, list[str]]:
    """The parts of a packed layer: its counts, geometry, styles and popup columns.

    :func:`pack_geometry` and :func:`pack_values` in one call (see them for the
    parameters); ``counts["columns"]`` is the number of popup columns.
    """
    counts, geometry = pack_geometry(geoms, precision)
    binary, parts = pack_values(style_index, columns)
    return {**counts, "columns": len(columns)}, geometry, binary, parts


#: The page's reader of packed layers: ``window.gisrenew.packed(...)`` returns a
#: ``L.FeatureGroup`` that fills itself (polygons by style) once the arrays are read.
PACKED_JS = """
window.gisrenew.pending = 0;
window.gisrenew.packed = (function () {
    var g = window.gisrenew;
    function bytes(text) {
        var s = atob(text), out = new Uint8Array(s.length);
        for (var i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
        return out;
    }
    function inflate(text) {
        var stream = new Blob([bytes(text)]).stream()
            .pipeThrough(new DecompressionStream('deflate'));
        return new Response(stream).arrayBuffer();
    }
    function read(n, geometry, style, columns) {
        var a = new Int32Array(geometry), at = 0;
        function take(k) { var v = a.subarray(at, at + k); at += k; return v; }
        var q = take(2 * n.coords), d = {rings: take(n.rings + 1), parts: take(n.parts + 1),
            features: take(n.features + 1), style: new Int32Array(style), codes: []};
        for (var c = 0; c < n.columns; c++) { d.codes.push(new Int32Array(columns[2 * c])); }
        // running sums of the differences: longitude, latitude
        var xy = new Float64Array(2 * n.coords), x = 0, y = 0, k, f;
        for (k = 0; k < n.coords; k++) {
            x += q[2 * k]; y += q[2 * k + 1];
            xy[2 * k] = (n.origin[0] + x) / n.scale; xy[2 * k + 1] = (n.origin[1] + y) / n.scale;
        }
        d.xy = xy;
        d.box = new Float64Array(4 * n.features);
        for (f = 0; f < n.features; f++) {
            var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
            var end = d.rings[d.parts[d.features[f + 1]]];
            for (k = d.rings[d.parts[d.features[f]]]; k < end; k++) {
                var px = xy[2 * k], py = xy[2 * k + 1];
                if (px < x0) { x0 = px; } if (px > x1) { x1 = px; }
                if (py < y0) { y0 = py; } if (py > y1) { y1 = py; }
            }
            d.box.set([x0, y0, x1, y1], 4 * f);
        }
        return d;
    }
    // Features grouped by style, then by cell of a grid over the layer (counting sort),
    // so that each Leaflet polygon holds a few neighbouring features: canvas paths of
    // thousands of rings draw very slowly, and small chunks are skipped out of view.
    function chunks(d, styles, size) {
        var n = d.style.length, grid = Math.max(1, Math.ceil(Math.sqrt(n / size)));
        var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, f, b;
        for (f = 0; f < n; f++) {
            b = 4 * f;
            x0 = Math.min(x0, d.box[b]); y0 = Math.min(y0, d.box[b + 1]);
            x1 = Math.max(x1, d.box[b + 2]); y1 = Math.max(y1, d.box[b + 3]);
        }
        var w = (x1 - x0) / grid || 1, h = (y1 - y0) / grid || 1;
        var key = new Uint32Array(n), count = new Uint32Array(styles * grid * grid + 1);
        for (f = 0; f < n; f++) {
            b = 4 * f;
            var cx = Math.min(grid - 1, Math.floor(((d.box[b] + d.box[b + 2]) / 2 - x0) / w));
            var cy = Math.min(grid - 1, Math.floor(((d.box[b + 1] + d.box[b + 3]) / 2 - y0) / h));
            key[f] = (d.style[f] * grid + cy) * grid + cx;
            count[key[f] + 1] += 1;
        }
        for (var k = 1; k < count.length; k++) { count[k] += count[k - 1]; }
        var sorted = new Uint32Array(n);
        for (f = 0; f < n; f++) { sorted[count[key[f]]++] = f; }
        var out = [], chunk = [];
        for (k = 0; k < n; k++) {
            f = sorted[k];
            if (chunk.length && (chunk.length >= size || d.style[chunk[0]] !== d.style[f])) {
                out.push(chunk); chunk = [];
            }
            chunk.push(f);
        }
        if (chunk.length) { out.push(chunk); }
        return out;
    }
    // Leaflet latlngs of the features of a chunk: a multipolygon (rings unclosed).
    function latlngs(d, chunk) {
        var out = [];
        for (var i = 0; i < chunk.length; i++) {
            var f = chunk[i];
            for (var p = d.features[f]; p < d.features[f + 1]; p++) {
                var polygon = [];
                for (var r = d.parts[p]; r < d.parts[p + 1]; r++) {
                    var ring = [];
                    for (var k = d.rings[r]; k < d.rings[r + 1] - 1; k++) {
                        ring.push([d.xy[2 * k + 1], d.xy[2 * k]]);
                    }
                    polygon.push(ring);
                }
                out.push(polygon);
            }
        }
        return out;
    }
    function inside(d, f, x, y) {
        var odd = false;
        for (var r = d.parts[d.features[f]]; r < d.parts[d.features[f + 1]]; r++) {
            for (var k = d.rings[r], j = d.rings[r + 1] - 1; k < d.rings[r + 1]; j = k++) {
                var xk = d.xy[2 * k], yk = d.xy[2 * k + 1], xj = d.xy[2 * j], yj = d.xy[2 * j + 1];
                if ((yk > y) !== (yj > y) && x < (xj - xk) * (y - yk) / (yj - yk) + xk) {
                    odd = !odd;
                }
            }
        }
        return odd;
    }
    // The feature of a chunk under a point: the last one drawn (on top) that holds it.
    function find(d, chunk, latlng) {
        var x = latlng.lng, y = latlng.lat, near = -1;
        for (var i = chunk.length - 1; i >= 0; i--) {
            var f = chunk[i], b = 4 * f;
            if (x < d.box[b] || x > d.box[b + 2] || y < d.box[b + 1] || y > d.box[b + 3]) {
                continue;
            }
            if (inside(d, f, x, y)) { return f; }
            if (near < 0) { near = f; }
        }
        return near;  // on an edge, as Leaflet saw it: the feature whose box holds the point
    }
    function values(d, uniques, f) {
        var v = [];
        for (var c = 0; c < d.codes.length; c++) { v.push(uniques[c][d.codes[c][f]]); }
        return v;
    }
    function bind(def, d, uniques, polygon, chunk) {
        var shown = null;
        if (def.labels.length) {
            polygon.on('click', function (e) {
                var f = find(d, chunk, e.latlng);
                if (f < 0) { return; }
                L.popup({maxWidth: 380, className: 'gr-popup-wrap'}).setLatLng(e.latlng)
                    .setContent(g.popup(def, values(d, uniques, f))).openOn(g.map);
            });
        }
        if (def.tooltip.length) {
            polygon.on('mousemove', function (e) {
                var f = find(d, chunk, e.latlng);
                var text = f < 0 ? '' : g.tooltip(def, values(d, uniques, f));
                if (text === shown) { return; }
                shown = text;
                polygon.unbindTooltip();
                if (text) {
                    polygon.bindTooltip(text, {sticky: true, direction: 'top'});
                    polygon.openTooltip(e.latlng);
                }
            });
            polygon.on('mouseout', function () { shown = null; polygon.unbindTooltip(); });
        }
    }
    function fill(group, key, def, styles, d, uniques) {
        var parts = chunks(d, styles.length, 64);
        for (var i = 0; i < parts.length; i++) {
            var options = L.extend({renderer: def.canvas ? g.canvas : undefined,
                                    interactive: def.interactive}, styles[d.style[parts[i][0]]]);
            var polygon = L.polygon(latlngs(d, parts[i]), options);
            if (def.interactive) { bind(def, d, uniques, polygon, parts[i]); }
            group.addLayer(polygon);
        }
        g.restack(key);
    }
    return function (key, def, styles, geometry, binary, columns) {
        var group = L.featureGroup();
        if (!window.DecompressionStream) {
            console.error('gisrenew: this browser cannot read the layer ' + key
                          + ' (no DecompressionStream); use a current browser');
            group.ready = Promise.resolve(group);
            return group;
        }
        g.pending += 1;
        var parts = [inflate(geometry), inflate(binary)].concat(columns.map(inflate));
        group.ready = Promise.all(parts).then(function (r) {
            var d = read(def.counts, r[0], r[1], r.slice(2)), decoder = new TextDecoder();
            var uniques = [];
            for (var c = 0; c < def.counts.columns; c++) {
                uniques.push(JSON.parse(decoder.decode(r[3 + 2 * c])));
            }
            fill(group, key, def, styles, d, uniques);
            return group;
        }).catch(function (error) {
            console.error('gisrenew: the layer ' + key + ' could not be read: ' + error);
        }).finally(function () { g.pending -= 1; });
        return group;
    };
})();
"""


class PackedRuntime(MacroElement):
    """The reader of packed layers (:data:`PACKED_JS`), added once to a page that has one."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.js }}
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "GisrenewPackedRuntime"
        self.js = PACKED_JS


class PackedLayer(DataLayer):
    """A large polygon layer drawn from packed arrays (see the module docs).

    Parameters
    ----------
    key, name, styles, labels, tooltip, heading, kind, canvas, show, interactive
        As for :class:`~gisrenew.webmap.elements.GeoJsonLayer`.
    counts : dict
        From :func:`pack_layer`.
    geometry, binary : str
        The base64 parts from :func:`pack_layer`: geometry, styles.
    columns : sequence of str
        The base64 codes and values of each popup column (:func:`pack_column`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = window.gisrenew.packed({{ this.key|tojson }},
                {{ this.def_json }}, {{ this.styles_json }},
                "{{ this.geometry }}", "{{ this.binary }}", {{ this.columns_json }});
            window.gisrenew.layers[{{ this.key|tojson }}] = {{ this.get_name() }};
            window.gisrenew.order.push({{ this.key|tojson }});
            {{ this.add_to_map() }}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        key: str,
        name: str,
        counts: dict,
        geometry: str,
        binary: str,
        columns: Sequence[str],
        *,
        styles: list[dict],
        labels: Sequence[str] = (),
        tooltip: Sequence[int] = (),
        heading: int | None = None,
        kind: str = "",
        canvas: bool = True,
        show: bool = True,
        interactive: bool = True,
        feature_count: int = 0,
    ):
        columns = [str(part) for part in columns]
        if len(columns) != 2 * int(counts.get("columns", 0)):
            raise ValueError("a packed layer needs the codes and values of each popup column")
        for part in (geometry, binary, *columns):
            if not isinstance(part, str) or _BASE64.fullmatch(part) is None:
                raise ValueError("packed parts must be base64 text")
        super().__init__(
            key, name, styles=styles, canvas=canvas, show=show, interactive=interactive,
            feature_count=feature_count,
        )  # fmt: skip
        self._name = "GisrenewPacked"
        self.geometry = geometry
        self.binary = binary
        self.columns = columns
        self.counts = counts
        self.labels = [escape_text(x) for x in labels]
        self.tooltip = [int(i) for i in tooltip]
        self.heading = None if heading is None else int(heading)
        self.kind = escape_text(kind)

    @property
    def columns_json(self) -> str:
        """The popup columns' parts (base64 text only: checked when made)."""
        return json.dumps(self.columns)

    @property
    def def_json(self) -> str:
        """The layer's definition for the page (read when the page is rendered)."""
        return script_json(
            {
                "labels": self.labels,
                "tooltip": self.tooltip,
                "heading": self.heading,
                "kind": self.kind,
                "counts": self.counts,
                "canvas": self.canvas,
                "interactive": self.interactive,
            }
        )
