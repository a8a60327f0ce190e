"""folium elements of gisrenew's maps: safe GeoJSON layers, HTML controls, page style.

folium's own GeoJSON tooltips/popups, ``Popup(str)`` and ``Tooltip(str)`` put text
into pages unescaped (and inside JavaScript template literals). gisrenew's layers
instead carry, per feature, a style index and a list of values that were escaped
with :func:`~gisrenew.webmap.escape.escape_text` in Python; a small fixed script
(:class:`Runtime`) assembles tooltips and popup tables from those values by
string concatenation. No user text is ever interpreted as code.

Every page registers its map and layers in ``window.gisrenew`` (``map``,
``layers[key]``, ``controls[key]``), which the browser tests and users' own
scripts can read.
"""

from __future__ import annotations

from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from jinja2 import Template

from gisrenew.webmap.escape import escape_text, script_json

__all__ = [
    "DataLayer",
    "FitView",
    "GeoJsonLayer",
    "HtmlControl",
    "PageStyle",
    "Runtime",
    "ScaleBar",
]

_RUNTIME_JS = """
window.gisrenew = {
    map: %(map)s,
    layers: {},
    controls: {},
    // The layer keys in drawing order (the later drawn above the earlier).
    order: [],
    // One canvas renderer shared by every canvas layer: stacked canvases would hide
    // the lower layers from clicks.
    canvas: L.canvas({padding: 0.5}),
    // Tooltip text: the values at def.tooltip joined; values are pre-escaped HTML.
    tooltip: function (def, v) {
        var parts = [];
        for (var i = 0; i < def.tooltip.length; i++) {
            var text = v[def.tooltip[i]];
            if (text !== undefined && text !== '') { parts.push(text); }
        }
        return parts.join(' \\u00b7 ');
    },
    // Popup: a heading and a two-column table of label / value (all pre-escaped).
    popup: function (def, v) {
        var html = '<div class="gr-popup">';
        if (def.heading !== null && v[def.heading] !== '') {
            html += '<div class="gr-popup-title">' + def.kind + v[def.heading] + '</div>';
        }
        html += '<table>';
        for (var i = 0; i < def.labels.length; i++) {
            if (i === def.heading || v[i] === undefined || v[i] === '') { continue; }
            html += '<tr><th>' + def.labels[i] + '</th><td>' + v[i] + '</td></tr>';
        }
        return html + '</table></div>';
    },
    bind: function (def, feature, layer) {
        var v = feature.properties.v || [];
        if (def.tooltip.length) {
            var text = window.gisrenew.tooltip(def, v);
            if (text) { layer.bindTooltip(text, {sticky: true, direction: 'top'}); }
        }
        if (def.labels.length) {
            layer.bindPopup(function () { return window.gisrenew.popup(def, v); },
                            {maxWidth: 380, className: 'gr-popup-wrap'});
        }
    },
    // Bring the layers drawn after the layer key back above it: a layer whose features come late
    // (a packed layer) or that is shown again is drawn on top, and would take their clicks.
    restack: function (key) {
        var g = window.gisrenew, after = false;
        for (var i = 0; i < g.order.length; i++) {
            var layer = g.layers[g.order[i]];
            if (after && layer && g.map.hasLayer(layer)) { layer.bringToFront(); }
            if (g.order[i] === key) { after = true; }
        }
    }
};
window.gisrenew.map.on('overlayadd', function (e) {
    for (var key in window.gisrenew.layers) {
        if (window.gisrenew.layers[key] === e.layer) { window.gisrenew.restack(key); }
    }
});
"""

_PAGE_CSS = """
<style>
.leaflet-container { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
    "PingFang SC", "Helvetica Neue", Arial, sans-serif; background: #f2f1ed; }
.gr-box { background: rgba(255,255,255,0.93); padding: 8px 10px; border-radius: 5px;
    box-shadow: 0 1px 5px rgba(0,0,0,0.35); font-size: 13px; line-height: 1.45; max-width: 340px; }
.gr-title h1 { font-size: 16px; margin: 0 0 4px 0; }
.gr-title .gr-ratio { font-size: 26px; font-weight: bold; color: #1a7f37; }
.gr-title .gr-sub { color: #555; font-size: 12px; }
.gr-title table, .gr-popup table { border-collapse: collapse; }
.gr-title th, .gr-title td, .gr-popup th, .gr-popup td { text-align: left; padding: 1px 6px 1px 0;
    vertical-align: top; font-weight: normal; }
.gr-title th, .gr-popup th { color: #555; white-space: nowrap; }
.gr-legend { max-height: 42vh; overflow-y: auto; font-size: 12px; }
.gr-legend h2 { font-size: 13px; margin: 6px 0 2px 0; }
.gr-legend h2:first-child { margin-top: 0; }
.gr-legend .gr-item { display: flex; align-items: center; margin: 1px 0; }
.gr-legend .gr-swatch { width: 18px; height: 12px; margin-right: 6px; flex: none;
    border: 2px solid transparent; box-sizing: border-box; }
.gr-popup-title { font-weight: bold; font-size: 14px; margin-bottom: 4px; }
.gr-title .gr-note { margin-top: 4px; padding: 3px 6px; border-radius: 3px; font-size: 12px;
    background: #fff3cd; color: #6b4e00; }
.gr-popup { font-size: 13px; }
</style>
"""


class PageStyle(Element):
    """The CSS of gisrenew's boxes, legends and popups (a fixed constant)."""

    def __init__(self):
        super().__init__(_PAGE_CSS)
        self._name = "GisrenewStyle"


class Runtime(MacroElement):
    """Defines ``window.gisrenew`` (map registry and popup/tooltip builders).

    Add it to the map before any :class:`GeoJsonLayer`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.js }}
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "GisrenewRuntime"

    def render(self, **kwargs):
        self.js = _RUNTIME_JS % {"map": self._parent.get_name()}
        super().render(**kwargs)


class _Script(Element):
    """Script text put into the page as it is: never compiled as a template again."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class DataLayer(Layer):
    """A layer whose script carries its data (megabytes for a city's parcels).

    branca renders a :class:`~branca.element.MacroElement`'s script and then compiles
    the result as a Jinja template once more (0.5–1 s for a 5–35 MB layer); a data
    layer's script goes into the page as it is, and adds itself to the map in it.
    Its template's ``script`` macro must end with ``{{ this.add_to_map() }}``.

    Parameters
    ----------
    key : str
        Key in ``window.gisrenew.layers`` (ASCII letters, digits and ``_``).
    name : str
        Name in the layer control (escaped here).
    styles : list of dict
        Leaflet path styles; each gets the CSS class ``gr-<key>``.
    canvas, show, interactive : bool
        Drawn on a canvas; shown at start; answering clicks.
    feature_count : int
        Features in the layer (for the checks of the published site).
    """

    def __init__(
        self,
        key: str,
        name: str,
        *,
        styles: list[dict],
        canvas: bool,
        show: bool,
        interactive: bool,
        feature_count: int,
    ):
        if not key.replace("_", "").isalnum() or not key.isascii():
            raise ValueError(f"layer key must be ASCII letters, digits and '_', got {key!r}")
        super().__init__(name=escape_text(name), overlay=True, control=True, show=show)
        self.key = key
        self.canvas = bool(canvas)
        self.interactive = bool(interactive)
        self.feature_count = int(feature_count)
        self.styles_json = script_json([dict(s, className=f"gr-{key}") for s in styles])

    def add_to_map(self) -> str:
        """``layer.addTo(map);`` when the layer starts shown (as :class:`folium.map.Layer`)."""
        return f"{self.get_name()}.addTo({self._parent.get_name()});" if self.show else ""

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("a map layer can only be rendered on a map in a page (Figure)")
        script = self._template.module.__dict__["script"]
        figure.script.add_child(_Script(str(script(self, kwargs))), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class GeoJsonLayer(DataLayer):
    """A GeoJSON overlay whose popups and tooltips are built from pre-escaped values.

    Parameters
    ----------
    key : str
        ASCII key of the layer in ``window.gisrenew.layers`` (e.g. ``"parks"``).
    name : str
        Display name in the layer control (escaped here).
    features_json : str
        A GeoJSON FeatureCollection as script-safe JSON text whose features carry
        ``properties = {"s": style index, "v": [escaped values]}``
        (see :func:`gisrenew.webmap.maps.feature_collection`).
    styles : list of dict
        Leaflet path options per style index (``radius`` for point features).
    labels : list of str
        Popup row labels, one per value (escaped here); empty: no popup.
    tooltip : list of int
        Indices of the values shown as tooltip.
    heading : int or None
        Index of the value shown as popup heading.
    kind : str
        Text put before the heading (e.g. "公园："), escaped here.
    canvas : bool
        Draw with a canvas renderer (for large layers) instead of SVG.
    show : bool
        Shown when the page opens.
    interactive : bool
        False for outline-only layers that should not catch clicks.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }}_styles = {{ this.styles_json }};
            var {{ this.get_name() }}_def = {{ this.def_json }};
            var {{ this.get_name() }}_renderer =
                {{ "window.gisrenew.canvas" if this.canvas else "undefined" }};
            var {{ this.get_name() }} = L.geoJSON({{ this.features_json }}, {
                renderer: {{ this.get_name() }}_renderer,
                interactive: {{ this.interactive|tojson }},
                style: function (f) { return {{ this.get_name() }}_styles[f.properties.s]; },
                pointToLayer: function (f, latlng) {
                    return L.circleMarker(latlng, L.extend(
                        {renderer: {{ this.get_name() }}_renderer,
                         interactive: {{ this.interactive|tojson }}},
                        {{ this.get_name() }}_styles[f.properties.s]));
                },
                onEachFeature: function (f, layer) {
                    window.gisrenew.bind({{ this.get_name() }}_def, f, layer);
                }
            });
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
        features_json: str,
        *,
        styles: list[dict],
        labels: list[str] = (),
        tooltip: list[int] = (),
        heading: int | None = None,
        kind: str = "",
        canvas: bool = False,
        show: bool = True,
        interactive: bool = True,
        feature_count: int = 0,
    ):
        super().__init__(
            key, name, styles=styles, canvas=canvas, show=show, interactive=interactive,
            feature_count=feature_count,
        )  # fmt: skip
        self._name = "GisrenewGeoJson"
        self.features_json = features_json
        self.def_json = script_json(
            {
                "labels": [escape_text(x) for x in labels],
                "tooltip": [int(i) for i in tooltip],
                "heading": None if heading is None else int(heading),
                "kind": escape_text(kind),
            }
        )


class HtmlControl(MacroElement):
    """A Leaflet control showing a block of HTML (title box, legend).

    Parameters
    ----------
    key : str
        Key in ``window.gisrenew.controls``.
    html : str
        HTML built by gisrenew from escaped text (never raw user text).
    position : {"topleft", "topright", "bottomleft", "bottomright"}
    css_class : str
        Extra CSS classes of the box.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function () {
                var control = L.control({position: {{ this.position|tojson }}});
                control.onAdd = function () {
                    var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
                    div.innerHTML = {{ this.html_json }};
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                };
                control.addTo({{ this._parent.get_name() }});
                window.gisrenew.controls[{{ this.key|tojson }}] = control;
            })();
        {% endmacro %}
        """
    )

    def __init__(self, key: str, html: str, *, position: str = "bottomright", css_class: str = ""):
        super().__init__()
        self._name = "GisrenewControl"
        if position not in ("topleft", "topright", "bottomleft", "bottomright"):
            raise ValueError(f"bad control position {position!r}")
        self.key = key
        self.position = position
        self.css_class = ("gr-box " + css_class).strip()
        self.html_json = script_json(html)


class ScaleBar(MacroElement):
    """A metric scale bar (比例尺)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.scale({metric: true, imperial: false, position: 'bottomleft'})
                .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "GisrenewScale"


_FIT_JS = """
(function () {
    var map = %(map)s;
    var bounds = L.latLngBounds(%(bounds)s);
    var box = map.getContainer();
    var frame = box.getBoundingClientRect();
    var W = box.clientWidth, H = box.clientHeight, gap = 8;
    // the boxes on the map (title, legend, layer control, zoom, scale), in map pixels
    var boxes = [];
    box.querySelectorAll('.leaflet-control').forEach(function (el) {
        var r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) {
            boxes.push([r.left - frame.left - gap, r.top - frame.top - gap,
                        r.right - frame.left + gap, r.bottom - frame.top + gap]);
        }
    });
    var xs = [gap, W - gap], ys = [gap, H - gap];
    boxes.forEach(function (b) { xs.push(b[0], b[2]); ys.push(b[1], b[3]); });
    function clamp(v, top) { return Math.min(Math.max(v, gap), top - gap); }
    xs = xs.map(function (v) { return clamp(v, W); }).sort(function (a, b) { return a - b; });
    ys = ys.map(function (v) { return clamp(v, H); }).sort(function (a, b) { return a - b; });
    function free(x0, y0, x1, y1) {
        return boxes.every(function (b) {
            return b[2] <= x0 || b[0] >= x1 || b[3] <= y0 || b[1] >= y1;
        });
    }
    // the free rectangle in which the frame is drawn largest (then the widest)
    var best = null;
    for (var a = 0; a < xs.length; a++) for (var b = a + 1; b < xs.length; b++)
    for (var c = 0; c < ys.length; c++) for (var d = c + 1; d < ys.length; d++) {
        var x0 = xs[a], x1 = xs[b], y0 = ys[c], y1 = ys[d];
        if (x1 - x0 < 40 || y1 - y0 < 40 || !free(x0, y0, x1, y1)) { continue; }
        var zoom = map.getBoundsZoom(bounds, false, L.point(W - (x1 - x0), H - (y1 - y0)));
        var area = (x1 - x0) * (y1 - y0);
        if (!best || zoom > best.zoom || (zoom === best.zoom && area > best.area)) {
            best = {zoom: zoom, area: area, x0: x0, y0: y0, x1: x1, y1: y1};
        }
    }
    var whole = map.getBoundsZoom(bounds, false, L.point(2 * gap, 2 * gap));
    if (best && best.zoom >= whole - 1) {
        map.fitBounds(bounds, {paddingTopLeft: [best.x0, best.y0],
                               paddingBottomRight: [W - best.x1, H - best.y1]});
    } else {  // a small screen: the boxes cover too much; frame the data under them
        map.fitBounds(bounds, {padding: [gap, gap]});
    }
})();
"""


class FitView(MacroElement):
    """Frame `bounds` in the part of the map the boxes leave free.

    Runs after the title box, the legend and the layer control are on the map: of the
    rectangles of the map that no box covers, the one in which the frame is drawn at
    the largest zoom is chosen, and the view fitted into it — no feature of the frame
    hides under a box. On a screen so small that this would cost more than one zoom
    level, the frame is fitted to the whole map instead.

    Parameters
    ----------
    bounds : list
        ``[[south, west], [north, east]]`` in degrees.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.js }}
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list):
        super().__init__()
        self._name = "GisrenewFitView"
        self.bounds_json = script_json([[float(v) for v in corner] for corner in bounds])

    def render(self, **kwargs):
        self.js = _FIT_JS % {"map": self._parent.get_name(), "bounds": self.bounds_json}
        super().render(**kwargs)
