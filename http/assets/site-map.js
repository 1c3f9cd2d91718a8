// phananh public site: the map of published results (div#results-map), drawn with the vendored
// Leaflet 1.9.4 and Leaflet.markercluster 1.5.3. The points come from this server
// (data-reports-url) and show even when no map tile can be loaded. A URL ending in
// #<lat>,<lon> opens the map on that point. The list of results works without this script.
(function () {
  "use strict";

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("results-map");
    if (!el || !window.L) return;
    var note = document.getElementById("map-tiles-note");
    var map = window.L.map(el).setView([16.0, 106.0], 6);
    var tiles = el.getAttribute("data-tiles");
    if (tiles) {
      var loaded = 0, failed = 0;
      var layer = window.L.tileLayer(tiles, { maxZoom: 19, attribution: esc(el.getAttribute("data-attribution") || "") });
      function update() { if (note) note.hidden = !(failed > 0 && loaded === 0); }
      layer.on("tileload", function () { loaded++; update(); });
      layer.on("tileerror", function () { failed++; update(); });
      layer.addTo(map);
    }
    var wardsUrl = el.getAttribute("data-wards-url");
    if (wardsUrl) window.phananhWards(map, wardsUrl);
    var group = window.L.markerClusterGroup ? window.L.markerClusterGroup({ maxClusterRadius: 40 }) : window.L.featureGroup();
    group.addTo(map);
    fetch(el.getAttribute("data-reports-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        var items = data.items || [];
        items.forEach(function (r) {
          var m = window.L.circleMarker([r.lat, r.lon], { radius: 9, weight: 2, fillOpacity: 0.9, className: "result-marker" });
          m.bindPopup('<a href="' + esc(r.url) + '">' + esc(r.title || r.category) + "</a><br>" + esc(r.category));
          group.addLayer(m);
        });
        var hash = (window.location.hash || "").slice(1).split(",");
        if (hash.length === 2 && isFinite(parseFloat(hash[0])) && isFinite(parseFloat(hash[1]))) {
          map.setView([parseFloat(hash[0]), parseFloat(hash[1])], 17);
        } else if (items.length) {
          map.fitBounds(window.L.latLngBounds(items.map(function (r) { return [r.lat, r.lon]; })).pad(0.2), { maxZoom: 14 });
        }
        el.setAttribute("data-count", String(items.length));
      })
      .catch(function () { el.setAttribute("data-count", "error"); });
  });
})();
