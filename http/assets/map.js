// phananh console map: vendored Leaflet 1.9.4 + Leaflet.markercluster 1.5.3 (see vendor/README.md).
// No inline code anywhere (CSP script-src 'self'); console.js calls window.phananhMap() on
// DOMContentLoaded.
// - div#map[data-reports-url][data-wards-url][data-tiles][data-attribution]: the map page.
//   Ward boundaries and report markers come from this server and do not depend on the tiles:
//   when tiles cannot be loaded (offline, blocked) they still show, with a note.
// - div.minimap[data-lat][data-lon] (optional data-tiles, data-attribution, data-wards-url): a
//   small map with one marker, drawn only when the page also loads Leaflet.
(function () {
  "use strict";

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { location.reload(); throw new Error("session"); }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  // The configured tile layer; `note` (if any) is shown while no tile could be loaded.
  function addTiles(map, el, note) {
    var url = el.getAttribute("data-tiles") || "";
    if (!url) { if (note) note.hidden = false; return; }
    var loaded = 0, failed = 0;
    var layer = L.tileLayer(url, {
      maxZoom: 19,
      attribution: esc(el.getAttribute("data-attribution") || "")
    });
    function update() { if (note) note.hidden = !(failed > 0 && loaded === 0); }
    layer.on("tileload", function () { loaded++; update(); });
    layer.on("tileerror", function () { failed++; update(); });
    layer.addTo(map);
  }

  function wardLayer(data, labels) {
    return L.geoJSON(data, {
      style: function () { return { className: "ward-boundary", weight: 2, fillOpacity: 0.05 }; },
      onEachFeature: function (f, layer) {
        var name = (f.properties && f.properties.name) || f.id || "";
        if (name) {
          layer.bindTooltip(esc(name), labels
            ? { permanent: true, direction: "center", className: "ward-label" }
            : { sticky: true });
        }
      }
    });
  }

  function reportMarker(r) {
    var m = L.circleMarker([r.lat, r.lon], {
      radius: 8,
      weight: r.overdue ? 3 : 1.5,
      fillOpacity: 0.9,
      className: "report-marker st-" + (r.group || "new") + (r.overdue ? " overdue" : "")
    });
    m.bindPopup(
      '<a class="map-popup-title" href="' + esc(r.url || ("/console/reports/" + encodeURIComponent(r.id))) + '">' +
        esc(r.title || r.id) + "</a>" +
      '<div class="map-popup-meta">' + esc(r.state_name || r.state) +
        (r.category ? " · " + esc(r.category) : "") +
        (r.overdue ? ' · <span class="overdue">Quá hạn</span>' : "") + "</div>"
    );
    m.bindTooltip(esc(r.title || r.id), { direction: "top" });
    return m;
  }

  function mainMap(el) {
    var status = document.getElementById("map-status");
    var note = document.getElementById("map-tiles-note");
    function say(text) { if (status) status.textContent = text; }

    var map = L.map(el, { zoomSnap: 0.25 });
    // A view before anything is fitted (Viet Nam), so the map is usable whatever fails.
    map.setView([16.0, 106.0], 5);
    addTiles(map, el, note);

    var fitted = false;
    var wards = getJSON(el.getAttribute("data-wards-url")).then(function (data) {
      var layer = wardLayer(data, true).addTo(map);
      var b = layer.getBounds();
      if (b.isValid()) { map.invalidateSize(); map.fitBounds(b, { padding: [8, 8] }); fitted = true; }
    }).catch(function (e) {
      if (e && e.message !== "session") say("Không tải được ranh giới phường, xã.");
    });

    var cluster = (typeof L.markerClusterGroup === "function")
      ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 45, chunkedLoading: true })
      : L.featureGroup();
    cluster.addTo(map);

    say("Đang tải phản ánh…");
    getJSON(el.getAttribute("data-reports-url")).then(function (data) {
      var list = (data && data.reports) || [];
      var markers = list.filter(function (r) { return isFinite(r.lat) && isFinite(r.lon); }).map(reportMarker);
      if (typeof cluster.addLayers === "function") cluster.addLayers(markers);
      else markers.forEach(function (m) { cluster.addLayer(m); });
      el.setAttribute("data-markers", String(markers.length));
      var text = markers.length === 0
        ? "Không có phản ánh nào có vị trí."
        : "Đang hiển thị " + markers.length.toLocaleString("vi-VN") + " phản ánh có vị trí.";
      if (data && data.truncated) {
        text += " Chỉ hiển thị " + Number(data.max).toLocaleString("vi-VN") +
          " phản ánh mới nhất; dùng bộ lọc hoặc trang Tìm kiếm để xem thêm.";
      }
      say(text);
      return wards.then(function () {
        if (!fitted && markers.length) {
          map.fitBounds(L.featureGroup(markers).getBounds(), { padding: [24, 24], maxZoom: 16 });
        }
      });
    }).catch(function (e) {
      if (e && e.message !== "session") say("Không tải được danh sách phản ánh. Hãy tải lại trang.");
    });
  }

  function miniMap(el) {
    var lat = parseFloat(el.getAttribute("data-lat"));
    var lon = parseFloat(el.getAttribute("data-lon"));
    if (!isFinite(lat) || !isFinite(lon)) return;
    el.textContent = "";
    el.classList.add("minimap-live");
    var map = L.map(el, { scrollWheelZoom: false }).setView([lat, lon], 16);
    if (el.getAttribute("data-tiles")) addTiles(map, el, null);
    var wardsUrl = el.getAttribute("data-wards-url") || "/console/map/wards.json";
    getJSON(wardsUrl).then(function (data) { wardLayer(data, false).addTo(map); }).catch(function () {});
    L.circleMarker([lat, lon], { radius: 8, weight: 2, fillOpacity: 0.9, className: "report-marker minimap-marker" })
      .addTo(map);
  }

  window.phananhMap = function () {
    if (typeof window.L === "undefined" || typeof L.map !== "function") return;
    var el = document.getElementById("map");
    if (el && el.hasAttribute("data-reports-url") && !el.classList.contains("leaflet-container")) mainMap(el);
    document.querySelectorAll("div.minimap[data-lat][data-lon]").forEach(function (m) {
      if (!m.classList.contains("leaflet-container")) miniMap(m);
    });
  };
})();
