/* gisrenew serve: the city's layers on the what-if page, packed or GeoJSON.
 *
 * A large layer arrives from /api/layers as the published maps' packed arrays
 * ({type: "Packed", def, styles, geometry, binary, columns}) and is drawn by their reader,
 * /static/webmap/packed.js (window.gisrenew.packed), loaded after this file. That reader
 * needs window.gisrenew (the map, one canvas renderer, tooltip text, the drawing order),
 * which the published pages get from their runtime; this file gives the serve page the same.
 * Tooltip values of a packed layer were escaped for HTML by the server (escape_text).
 */
(function () {
  "use strict";

  const g = {
    map: null, canvas: null, layers: {}, order: [],
    // Tooltip: the values at def.tooltip, joined (the values are escaped HTML).
    tooltip: function (def, v) {
      return def.tooltip.map((i) => v[i]).filter((t) => t !== undefined && t !== "").join(" · ");
    },
    // Popup: a two-column table of label / value (all escaped HTML); no serve layer has one yet.
    popup: function (def, v) {
      let html = '<div class="gr-popup"><table>';
      def.labels.forEach((label, i) => {
        if (v[i] !== undefined && v[i] !== "") { html += "<tr><th>" + label + "</th><td>" + v[i] + "</td></tr>"; }
      });
      return html + "</table></div>";
    },
    // Bring the layers drawn after `key` back above it (a packed layer is filled late).
    restack: function (key) {
      let after = false;
      for (const k of g.order) {
        const layer = g.layers[k];
        if (after && layer && g.map.hasLayer(layer)) { layer.bringToFront(); }
        if (k === key) { after = true; }
      }
    },
  };
  window.gisrenew = g;

  /* Draw the city's layers on `map`, in order (the later above the earlier).
   *
   * entries: [key, data, geoJsonOptions] each; `data` a FeatureCollection or a packed layer.
   * Returns {layers: {key: layer}, ready: Promise} (ready once every packed layer is drawn).
   */
  function draw(map, renderer, entries) {
    g.map = map;
    g.canvas = renderer;
    g.layers = {};
    g.order = [];
    const waits = [];
    for (const [key, data, options] of entries) {
      let layer;
      if (data && data.type === "Packed") {
        layer = g.packed(key, data.def, data.styles, data.geometry, data.binary, data.columns);
        waits.push(layer.ready);
      } else {
        layer = L.geoJSON(data, options);
      }
      g.layers[key] = layer;
      g.order.push(key);
      layer.addTo(map);
    }
    return { layers: Object.assign({}, g.layers), ready: Promise.all(waits) };
  }

  window.gisrenewCity = { draw: draw };
})();
