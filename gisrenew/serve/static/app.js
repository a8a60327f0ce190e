/* gisrenew serve: the what-if page. Draw parks, remove parks, pick candidate sites, see
 * what they change.
 *
 * A sketch is a list of actions (a polygon drawn, a park removed, a candidate site picked);
 * undo takes back the last one of any kind, and every action asks the server again.
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
    park: { color: "#1b5e20", weight: 1, dashArray: null, fillColor: "#2e7d32",
      fillOpacity: 0.8 },
    blind: { color: "#b71c1c", weight: 0.5, fillColor: "#b71c1c", fillOpacity: 0.55 },
    closed: { color: "#0d47a1", weight: 1.5, fillColor: "#1e88e5", fillOpacity: 0.7 },
    drawn: { color: "#6a1b9a", weight: 2, fillColor: "#ab47bc", fillOpacity: 0.35 },
    removed: { color: "#424242", weight: 2, dashArray: "4 4", fillColor: "#9e9e9e",
      fillOpacity: 0.75 },
    candidate: { color: "#6a1b9a", weight: 2, dashArray: "6 4", fillColor: "#ab47bc",
      fillOpacity: 0.05 },
    picked: { color: "#6a1b9a", weight: 2.5, dashArray: null, fillColor: "#ab47bc",
      fillOpacity: 0.6 },
    opened: { color: "#e65100", weight: 1.5, fillColor: "#ff9800", fillOpacity: 0.7 },
  };

  const app = {
    map: null, renderer: null, labels: {}, state: null, sketches: [], current: null,
    layers: {},
    closed: null, opened: null, lastAnswer: null, answered: 0, applied: null, saved: null, ready: false,
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
    const renderer = app.renderer;
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
        onEachFeature: (f, l) => {
          tooltip(l, f.properties, ["name", "park_id", "park_class"]);
          l.on("click", () => toggle("remove", f.properties.park_id, f.properties.name));
        },
      }],
      ["candidates", layers.candidates, {
        style: () => STYLE.candidate, renderer: renderer, pmIgnore: true,
        onEachFeature: (f, l) => {
          tooltip(l, f.properties, ["name", "candidate_id"]);
          l.on("click", () => toggle("pick", f.properties.candidate_id, f.properties.name));
        },
      }],
    ]);
    Object.assign(app.layers, drawn.layers);
    await drawn.ready;
    return app.layers.residential.getBounds();
  }

  // Parks removed and sites picked in the sketch shown, drawn as such.
  function restyle() {
    const sketch = app.current;
    if (!sketch || !app.layers.parks) { return; }
    app.layers.parks.eachLayer((l) => l.setStyle(
      sketch.removed.has(l.feature.properties.park_id) ? STYLE.removed : STYLE.park));
    app.layers.candidates.eachLayer((l) => l.setStyle(
      sketch.picked.has(l.feature.properties.candidate_id) ? STYLE.picked : STYLE.candidate));
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
      removed: new Map(), picked: new Map(), actions: [],
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
    restyle();
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
    const empty = !app.current || app.current.actions.length === 0;
    const noDrawn = !app.current || app.current.group.getLayers().length === 0;
    $("undo").disabled = empty;
    $("apply").disabled = empty || app.state.read_only;
    $("save").disabled = noDrawn || app.state.read_only;
    showActions();
    showCompare();
  }

  // The sketch's actions, oldest first: what it draws, removes and picks (names as text).
  function showActions() {
    const list = $("sketch-actions");
    list.replaceChildren();
    if (!app.current) { return; }
    let drawn = 0;
    for (const action of app.current.actions) {
      let text;
      if (action.kind === "draw") {
        drawn += 1;
        text = app.labels.action_drawn + " " + drawn;
      } else {
        const label = action.kind === "remove" ? app.labels.action_removed
          : app.labels.action_picked;
        text = label + "：" + action.id + (action.name ? " " + action.name : "");
      }
      const item = el("li", text);
      item.dataset.kind = action.kind;
      list.append(item);
    }
  }

  // A park clicked (remove) or a candidate site clicked (pick): on in the sketch, or off.
  function toggle(kind, id, name) {
    const sketch = app.current;
    if (!sketch || id === undefined || id === null) { return; }
    if (app.map.pm.globalDrawModeEnabled()) { return; } // a corner of a park being drawn
    const chosen = kind === "remove" ? sketch.removed : sketch.picked;
    id = String(id);
    if (chosen.has(id)) {
      chosen.delete(id);
      sketch.actions = sketch.actions.filter((a) => !(a.kind === kind && a.id === id));
    } else {
      chosen.set(id, name === undefined || name === null ? "" : String(name));
      sketch.actions.push({ kind: kind, id: id, name: chosen.get(id) });
    }
    restyle();
    evaluate(sketch);
  }

  // Undo: the sketch's last action of any kind taken back.
  function undo() {
    const sketch = app.current;
    const action = sketch.actions.pop();
    if (!action) { return; }
    if (action.kind === "draw") { sketch.group.removeLayer(action.layer); }
    if (action.kind === "remove") { sketch.removed.delete(action.id); }
    if (action.kind === "pick") { sketch.picked.delete(action.id); }
    restyle();
    evaluate(sketch);
  }

  function clearSketch(sketch) {
    sketch.group.clearLayers();
    sketch.removed.clear();
    sketch.picked.clear();
    sketch.actions = [];
    sketch.answer = null;
  }

  function sketchBody(sketch) {
    const features = sketch.group.getLayers().map((layer, i) => {
      const feature = layer.toGeoJSON(6);
      feature.properties = { name: sketch.name + " · " + (i + 1), park_class: "G14" };
      return feature;
    });
    return {
      add: features, remove: Array.from(sketch.removed.keys()),
      candidates: Array.from(sketch.picked.keys()),
    };
  }

  async function evaluate(sketch) {
    const number = ++app.requests;
    if (sketch.actions.length === 0) {
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
    if (app.opened) { app.map.removeLayer(app.opened); app.opened = null; }
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
    showRemoved(box, answer.removed || []);
    showClosed(box, answer.blind_spots_closed || {});
    showOpened(box, answer.blind_spots_opened);
    showDistricts(box, answer.districts || []);
  }

  function showRemoved(box, removed) {
    if (!removed.length) { return; }
    box.append(el("h3", app.labels.removed));
    const list = el("ul", null, "items");
    list.id = "removed";
    for (const row of removed) {
      const name = app.current.removed.get(String(row.park_id)) || "";
      list.append(el("li", row.park_id + (name ? " " + name : "") + "：-" + row.text.loss));
    }
    box.append(list);
  }

  function showOpened(box, opened) {
    if (!opened || !opened.count) { return; }
    box.append(figure(app.labels.opened, opened.text.count + "，" + opened.text.area, "opened"));
    if (opened.geojson && opened.geojson.features && opened.geojson.features.length) {
      app.opened = L.geoJSON(opened.geojson, {
        style: () => STYLE.opened, pmIgnore: true, interactive: false,
      }).addTo(app.map);
    }
  }

  function showParks(box, parks) {
    if (!parks.length) { return; }
    box.append(el("h3", app.labels.parks));
    const list = el("ul", null, "items");
    list.id = "parks";
    for (const park of parks) {
      const item = el("li");
      const id = park.candidate_id ? park.candidate_id + " " : "";
      item.append(el("span", id + park.name + "："));
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
    if (!sketch.actions.length) { return; }
    if (!window.confirm(app.labels.confirm_apply.replace("{name}", sketch.name))) { return; }
    status(app.labels.working);
    const body = sketchBody(sketch);
    body.note = sketch.name;
    const result = await api("/api/apply", body);
    if (!result.ok) { status(app.labels.error + "：" + result.data.error, true); return; }
    clearSketch(sketch);
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
    await load(); // the saved sites are drawn, ready to be picked
    restyle();
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
    $("save").title = L_.save_hint;
    $("save-hint").textContent = L_.save_hint;
    $("actions-title").textContent = L_.actions;
    $("apply").textContent = L_.apply;
    $("compare-title").textContent = L_.compare;
    const readOnly = $("read-only");
    readOnly.textContent = L_.read_only;
    readOnly.hidden = !app.state.read_only;
  }

  function wire() {
    $("new-sketch").addEventListener("click", () => newSketch());
    $("undo").addEventListener("click", undo);
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
      app.current.actions.push({ kind: "draw", layer: event.layer });
      evaluate(app.current);
    });
  }

  async function start() {
    // One canvas for every layer: a second canvas on top would swallow the clicks on parks
    // and candidate sites (Leaflet hit-tests each canvas alone).
    app.renderer = L.canvas({ padding: 0.2 });
    app.map = L.map("map", { preferCanvas: true, renderer: app.renderer });
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
