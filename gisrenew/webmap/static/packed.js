
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
