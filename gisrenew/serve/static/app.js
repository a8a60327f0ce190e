/* gisrenew serve: the what-if page. Draw parks, see what they change.
 *
 * Everything shown from the data goes through textContent (never innerHTML); every figure
 * arrives worded by the server (gisrenew.present), the page formats nothing itself.
 */
(function () {
  "use strict";

  const CSRF = document.querySelector('meta[name="gisrenew-csrf"]').content;
  const METHODS = ["buffer", "network"];
  const STYLE = {
    covered: { color: "#2e7d32", weight: 0.5, fillColor: "#66bb6a", fillOpacity: 0.45 },
    partly: { color: "#f9a825", weight: 0.5, fillColor: "#fdd835", fillOpacity: 0.45 },
    uncovered: { color: "#c62828", weight: 0.5, fillColor: "#ef5350", fillOpacity: 0.45 },
    land: { color: "#757575", weight: 0.5, fillColor: "#bdbdbd", fillOpacity: 0.4 },
    park: { color: "#1b5e20", weight: 1, fillColor: "#2e7d32", fillOpacity: 0.8 },
    blind: { color: "#b71c1c", weight: 0.5, fillColor: "#b71c1c", fillOpacity: 0.55 },
    closed: { color: "#0d47a1", weight: 1.5, fillColor: "#1e88e5", fillOpacity: 0.7 },
    drawn: { color: "#6a1b9a", weight: 2, fillColor: "#ab47bc", fillOpacity: 0.35 },
  };

  const app = {
    map: null, labels: {}, state: null, sketches: [], current: null, layers: {},
    closed: null, lastAnswer: null, answered: 0, applied: null, saved: null, ready: false,
    requests: 0,
  };
  window.gisrenewServe = app;

  // ------------------------------------------------------------------ small helpers

  function $(id) { return document.getElementById(id); }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function figure(label, value, id) {
    const row = el("p", null, "figure");
    row.append(el("span", label + "："));
    const shown = el("span", value, "value");
    if (id) { shown.id = id; }
    row.append(shown);
    return row;
  }

  function status(text, isError) {
    const node = $("status");
    node.textContent = text || "";
    node.className = isError ? "error" : "";
  }

  async function api(path, body) {
    const options = { credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.headers["X-Gisrenew-Token"] = CSRF;
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
    return { ok: response.ok, status: response.status, data: data };
  }

  // ------------------------------------------------------------------ the city

  function landStyle(feature) {
    const share = feature.properties.covered_share;
    if (share === undefined || share === null) { return STYLE.land; }
    if (share >= 0.999) { return STYLE.covered; }
    if (share <= 0.001) { return STYLE.uncovered; }
    return STYLE.partly;
  }

  function tooltip(layer, props, keys) {
    const parts = keys.filter((k) => props[k] !== undefined && props[k] !== null)
      .map((k) => String(props[k]));
    if (parts.length) {
      const node = el("span", parts.join(" · "));
      layer.bindTooltip(node, { sticky: true });
    }
  }

  // residential land (and many blind spots) arrive packed: drawn by city.js / packed.js
  async function drawCity(layers) {
    for (const layer of Object.values(app.layers)) { app.map.removeLayer(layer); }
    const renderer = L.canvas({ padding: 0.2 });
    const drawn = window.gisrenewCity.draw(app.map, renderer, [
      ["residential", layers.residential, {
        style: landStyle, renderer: renderer, pmIgnore: true,
        onEachFeature: (f, l) => tooltip(l, f.properties, ["name", "residential_id"]),
      }],
      ["blind_spots", layers.blind_spots, {
        style: () => STYLE.blind, renderer: renderer, pmIgnore: true, interactive: false,
      }],
      ["parks", layers.parks, {
        style: () => STYLE.park, renderer: renderer, pmIgnore: true,
        onEachFeature: (f, l) => tooltip(l, f.properties, ["name", "park_id", "park_class"]),
      }],
    ]);
    Object.assign(app.layers, drawn.layers);
    await drawn.ready;
    return app.layers.residential.getBounds();
  }

  function showNow(state) {
    const box = $("now");
    box.replaceChildren();
    const ratios = (state.text && state.text.ratio) || {};
    for (const method of METHODS) {
      if (ratios[method] !== undefined) {
        box.append(figure(app.labels.ratio + "（" + state.text.methods[method] + "）",
          ratios[method], "now-" + method));
      }
    }
    $("city").textContent = state.city || "";
  }

  // ------------------------------------------------------------------ sketches

  function newSketch() {
    const sketch = {
      id: app.sketches.length + 1,
      name: app.labels.sketch + " " + (app.sketches.length + 1),
      group: L.featureGroup(), answer: null,
    };
    app.sketches.push(sketch);
    select(sketch);
    return sketch;
  }

  function select(sketch) {
    if (app.current) { app.map.removeLayer(app.current.group); }
    app.current = sketch;
    sketch.group.addTo(app.map);
    $("sketch-name").value = sketch.name;
    showSketches();
    showAnswer(sketch.answer);
  }

  function showSketches() {
    const list = $("sketch-list");
    list.replaceChildren();
    for (const sketch of app.sketches) {
      const button = el("button", sketch.name);
      button.type = "button";
      button.setAttribute("role", "tab");
      button.setAttribute("aria-selected", String(sketch === app.current));
      button.addEventListener("click", () => select(sketch));
      list.append(button);
    }
    const empty = !app.current || app.current.group.getLayers().length === 0;
    $("undo").disabled = empty;
    $("apply").disabled = empty || app.state.read_only;
    $("save").disabled = empty || app.state.read_only;
    showCompare();
  }

  function sketchBody(sketch) {
    const features = sketch.group.getLayers().map((layer, i) => {
      const feature = layer.toGeoJSON(6);
      feature.properties = { name: sketch.name + " · " + (i + 1), park_class: "G14" };
      return feature;
    });
    return { add: features };
  }

  async function evaluate(sketch) {
    const number = ++app.requests;
    if (sketch.group.getLayers().length === 0) {
      sketch.answer = null;
      finish(sketch, null, number);
      return;
    }
    status(app.labels.working);
    const result = await api("/api/evaluate", sketchBody(sketch));
    if (number !== app.requests) { return; } // a newer question is on its way
    if (!result.ok) {
      status(app.labels.error + "：" + (result.data && result.data.error), true);
      app.answered += 1;
      return;
    }
    sketch.answer = result.data;
    status("");
    finish(sketch, result.data, number);
  }

  function finish(sketch, answer, number) {
    app.lastAnswer = answer;
    if (sketch === app.current) { showAnswer(answer); }
    showSketches();
    app.answered += 1;
  }

  // ------------------------------------------------------------------ the answer

  function showAnswer(answer) {
    const box = $("answer");
    box.replaceChildren();
    if (app.closed) { app.map.removeLayer(app.closed); app.closed = null; }
    if (!answer) { box.append(el("p", app.labels.empty, "muted")); return; }
    for (const method of METHODS) {
      const text = answer.text && answer.text[method];
      if (!text) { continue; }
      box.append(el("h3", app.labels.ratio + "（" + app.state.text.methods[method] + "）"));
      box.append(figure(app.labels.before_after,
        text.ratio_before + " → " + text.ratio_after + "（" + text.ratio_change + "）",
        "ratio-" + method));
      box.append(figure(app.labels.gain_area, text.gain, "gain-" + method));
      box.append(figure(app.labels.gain_households, text.households_gain,
        "households-" + method));
    }
    showParks(box, answer.parks || []);
    showClosed(box, answer.blind_spots_closed || {});
    showDistricts(box, answer.districts || []);
    if ((answer.removed || []).length) {
      box.append(el("h3", app.labels.removed));
      const list = el("ul", null, "items");
      for (const row of answer.removed) { list.append(el("li", row.park_id + "：" + row.text.loss)); }
      box.append(list);
    }
  }

  function showParks(box, parks) {
    box.append(el("h3", app.labels.parks));
    const list = el("ul", null, "items");
    list.id = "parks";
    for (const park of parks) {
      const item = el("li");
      item.append(el("span", park.name + "："));
      item.append(el("span", park.text.status, park.qualifies ? "qualifies" : "not-qualifies"));
      const more = park.qualifies
        ? "，" + app.labels.radius + " " + park.text.radius + "，+" + park.text.gain
        : "（" + park.text.reason + "）";
      item.append(el("span", more));
      list.append(item);
    }
    box.append(list);
  }

  function showClosed(box, closed) {
    const text = closed.text || {};
    box.append(figure(app.labels.closed, text.count + "，" + text.area, "closed"));
    if (closed.geojson && closed.geojson.features && closed.geojson.features.length) {
      app.closed = L.geoJSON(closed.geojson, {
        style: () => STYLE.closed, pmIgnore: true, interactive: false,
      }).addTo(app.map);
    }
  }

  function showDistricts(box, districts) {
    if (!districts.length) { return; }
    box.append(el("h3", app.labels.districts));
    const list = el("ul", null, "items");
    for (const row of districts) {
      list.append(el("li", (row.name || row.district_id) + "：" + row.text.ratio_before
        + " → " + row.text.ratio_after));
    }
    box.append(list);
  }

  function showCompare() {
    const table = $("compare-table");
    table.replaceChildren();
    const answered = app.sketches.filter((s) => s.answer);
    $("compare").hidden = answered.length < 2;
    if (answered.length < 2) { return; }
    const head = el("tr");
    head.append(el("th", app.labels.sketch));
    for (const method of METHODS) {
      if (answered[0].answer.text[method]) {
        head.append(el("th", app.state.text.methods[method]));
      }
    }
    head.append(el("th", app.labels.gain_households));
    table.append(head);
    for (const sketch of answered) {
      const row = el("tr");
      row.append(el("td", sketch.name));
      for (const method of METHODS) {
        const text = sketch.answer.text[method];
        if (answered[0].answer.text[method]) { row.append(el("td", text ? text.ratio_after : "")); }
      }
      row.append(el("td", sketch.answer.text.buffer.households_gain));
      table.append(row);
    }
  }

  // ------------------------------------------------------------------ keeping a sketch

  async function apply() {
    const sketch = app.current;
    if (!sketch.group.getLayers().length) { return; }
    if (!window.confirm(app.labels.confirm_apply.replace("{name}", sketch.name))) { return; }
    status(app.labels.working);
    const body = sketchBody(sketch);
    body.note = sketch.name;
    const result = await api("/api/apply", body);
    if (!result.ok) { status(app.labels.error + "：" + result.data.error, true); return; }
    sketch.group.clearLayers();
    sketch.answer = null;
    await load();
    select(sketch);
    status(app.labels.applied.replace("{run}", result.data.run_id));
    app.applied = result.data;
  }

  async function save() {
    const sketch = app.current;
    if (!sketch.group.getLayers().length) { return; }
    const result = await api("/api/candidates", sketchBody(sketch));
    if (!result.ok) { status(app.labels.error + "：" + result.data.error, true); return; }
    status(app.labels.saved.replace("{ids}", (result.data.candidate_ids || []).join(", ")));
    app.saved = result.data;
  }

  // ------------------------------------------------------------------ start

  async function load() {
    const state = await api("/api/state");
    if (!state.ok) { throw new Error(state.data.error); }
    app.state = state.data;
    app.labels = state.data.labels;
    showNow(app.state);
    const layers = await api("/api/layers");
    if (!layers.ok) { throw new Error(layers.data.error); }
    return await drawCity(layers.data);
  }

  function words() {
    const L_ = app.labels;
    $("title").textContent = L_.title;
    $("hint").textContent = L_.draw_hint;
    $("sketches-title").textContent = L_.sketches;
    $("sketch-name-label").textContent = L_.sketch;
    $("new-sketch").textContent = L_.new_sketch;
    $("undo").textContent = L_.undo;
    $("save").textContent = L_.save_candidate;
    $("apply").textContent = L_.apply;
    $("compare-title").textContent = L_.compare;
    const readOnly = $("read-only");
    readOnly.textContent = L_.read_only;
    readOnly.hidden = !app.state.read_only;
  }

  function wire() {
    $("new-sketch").addEventListener("click", () => newSketch());
    $("undo").addEventListener("click", () => {
      const layers = app.current.group.getLayers();
      if (!layers.length) { return; }
      app.current.group.removeLayer(layers[layers.length - 1]);
      evaluate(app.current);
    });
    $("apply").addEventListener("click", apply);
    $("save").addEventListener("click", save);
    $("sketch-name").addEventListener("change", (event) => {
      app.current.name = event.target.value.trim() || app.current.name;
      showSketches();
      evaluate(app.current);
    });
    app.map.on("pm:create", (event) => {
      event.layer.setStyle(STYLE.drawn);
      app.map.removeLayer(event.layer);
      app.current.group.addLayer(event.layer);
      evaluate(app.current);
    });
  }

  async function start() {
    app.map = L.map("map", { preferCanvas: true });
    const bounds = await load();
    if (bounds.isValid()) { app.map.fitBounds(bounds); } else { app.map.setView([0, 0], 2); }
    app.map.pm.setLang(document.documentElement.lang === "zh" ? "zh" : "en");
    app.map.pm.addControls({
      position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false,
      drawCircle: false, drawText: false, editMode: false, dragMode: false, cutPolygon: false,
      removalMode: false, rotateMode: false,
    });
    words();
    wire();
    newSketch();
    app.ready = true;
  }

  document.addEventListener("DOMContentLoaded", () => {
    start().catch((error) => status(String(error && error.message || error), true));
  });
})();
