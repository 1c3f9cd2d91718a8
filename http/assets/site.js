// phananh public site. Every page works without this script; it only enhances:
// - live hints while typing a report (Đ.6.3 out of scope, Đ.3.1.c abusive words), from the
//   server's screening (POST /report/hints), so the rules stay in one place;
// - the location: the device's GPS, or a tap on a map (Leaflet loaded only when asked for);
// - photos, audio and video through the upload slots: progress, automatic retries after a
//   dropped connection, then a clear "failed" mark with a manual retry;
// - one submission per tap (the server's idempotency key makes a retry safe as well).
// No inline code anywhere (CSP script-src 'self').
(function () {
  "use strict";

  var MAX_AUTO_RETRIES = 3;

  // The wards' boundaries under a map (context where no map tile can be loaded); used by the
  // form's map here and by site-map.js.
  window.phananhWards = function (map, url) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        window.L.geoJSON(data, {
          style: function () { return { color: "#8b1c1c", weight: 1.5, fillOpacity: 0.04, interactive: false }; },
          onEachFeature: function (f, layer) {
            var name = f.properties && f.properties.name;
            if (name) layer.bindTooltip(String(name), { permanent: true, direction: "center", className: "ward-label" });
          }
        }).addTo(map);
      })
      .catch(function () { /* the map works without the boundaries */ });
  };

  function $(id) { return document.getElementById(id); }

  function csrf() {
    var f = document.querySelector("#report-form input[name=_csrf]");
    return f ? f.value : "";
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { var e = new Error(j.detail || ("HTTP " + r.status)); e.status = r.status; throw e; }
        return j;
      });
    });
  }

  // ---- live hints ----------------------------------------------------------------------
  function hints(form) {
    var url = form.getAttribute("data-hints-url");
    var title = $("title"), desc = $("description");
    var scope = $("hint-scope"), abuse = $("hint-abuse");
    if (!url || !title || !desc || !scope || !abuse) return;
    var timer = null, seq = 0;
    function check() {
      var mine = ++seq;
      postJSON(url, { title: title.value, description: desc.value }).then(function (h) {
        if (mine !== seq) return;
        if (h.out_of_scope) {
          scope.querySelector(".hint-text").textContent = h.out_of_scope.guidance;
          scope.setAttribute("data-code", h.out_of_scope.code);
          scope.hidden = false;
        } else {
          scope.hidden = true;
        }
        var terms = h.abusive_terms || [];
        abuse.querySelector(".hint-terms").textContent = terms.join(", ");
        abuse.hidden = terms.length === 0;
      }).catch(function () { /* hints are advice only; the server checks on submit */ });
    }
    function later() { clearTimeout(timer); timer = setTimeout(check, 400); }
    title.addEventListener("input", later);
    desc.addEventListener("input", later);
  }

  // ---- location -------------------------------------------------------------------------
  function locate(form) {
    var lat = $("lat"), lon = $("lon"), status = $("location-status");
    var gps = $("gps"), pick = $("pick-map"), box = $("pick-map-box");
    var map = null, marker = null;
    if (!lat || !lon || !status) return;

    function set(la, lo) {
      lat.value = la.toFixed(6);
      lon.value = lo.toFixed(6);
      status.textContent = status.getAttribute("data-set") + ": " + lat.value + ", " + lon.value;
      if (map) {
        if (marker) marker.setLatLng([la, lo]);
        else marker = window.L.marker([la, lo], { icon: window.L.divIcon({ className: "site-marker", iconSize: [18, 18] }) }).addTo(map);
      }
    }

    if (gps) gps.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = status.getAttribute("data-failed"); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        set(p.coords.latitude, p.coords.longitude);
        if (map) map.setView([p.coords.latitude, p.coords.longitude], 17);
      }, function () { status.textContent = status.getAttribute("data-failed"); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });

    function loadLeaflet(done) {
      if (window.L) { done(); return; }
      var css = document.createElement("link");
      css.rel = "stylesheet"; css.href = pick.getAttribute("data-css");
      document.head.appendChild(css);
      var s = document.createElement("script");
      s.src = pick.getAttribute("data-js");
      s.onload = done;
      s.onerror = function () { status.textContent = status.getAttribute("data-failed"); };
      document.head.appendChild(s);
    }

    if (pick && box) pick.addEventListener("click", function () {
      box.hidden = false;
      loadLeaflet(function () {
        if (map) { map.invalidateSize(); return; }
        var la = parseFloat(lat.value) || parseFloat(pick.getAttribute("data-lat"));
        var lo = parseFloat(lon.value) || parseFloat(pick.getAttribute("data-lon"));
        map = window.L.map("pick-map-canvas").setView([la, lo], 14);
        var tiles = pick.getAttribute("data-tiles");
        if (tiles) window.L.tileLayer(tiles, { maxZoom: 19, attribution: pick.getAttribute("data-attribution") || "" }).addTo(map);
        if (pick.getAttribute("data-wards-url")) window.phananhWards(map, pick.getAttribute("data-wards-url"));
        map.on("click", function (e) { set(e.latlng.lat, e.latlng.lng); });
        if (lat.value && lon.value) set(parseFloat(lat.value), parseFloat(lon.value));
        box.setAttribute("data-ready", "1");
      });
    });
  }

  // ---- uploads ------------------------------------------------------------------------------
  function uploads(form) {
    var input = $("files"), list = $("upload-list"), ids = $("attachments");
    if (!input || !list || !ids) return;
    var slotUrl = input.getAttribute("data-slot-url");
    var max = parseInt(input.getAttribute("data-max"), 10) || 10;
    function tr(k) { return input.getAttribute("data-t-" + k) || k; }
    var count = 0;

    function attached() { return ids.value ? ids.value.split(",") : []; }
    function attach(id) { var a = attached(); a.push(id); ids.value = a.join(","); }
    function detach(id) { ids.value = attached().filter(function (x) { return x !== id; }).join(","); }

    // Sends the file as the slot says: a POST form (every field first, then the file) or the
    // method with its headers and the raw body. Resolves on 2xx.
    function send(ticket, file, progress) {
      return new Promise(function (resolve, reject) {
        var up = ticket.upload || {};
        var method = (up.method || "PUT").toUpperCase();
        var xhr = new XMLHttpRequest();
        xhr.open(method, up.url);
        var body;
        if (method === "POST") {
          body = new FormData();
          var fields = up.fields || {};
          if (Array.isArray(fields)) fields.forEach(function (p) { body.append(p[0], p[1]); });
          else Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
          body.append("file", file);
        } else {
          (up.headers || []).forEach(function (p) { xhr.setRequestHeader(p[0], p[1]); });
          body = file;
        }
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) progress(e.loaded / e.total); };
        xhr.onload = function () { if (xhr.status >= 200 && xhr.status < 300) resolve(); else reject(new Error("HTTP " + xhr.status)); };
        xhr.onerror = function () { reject(new Error("network")); };
        xhr.ontimeout = function () { reject(new Error("timeout")); };
        xhr.send(body);
      });
    }

    function add(file) {
      var li = document.createElement("li");
      li.className = "uploading";
      var name = document.createElement("span"); name.className = "fname"; name.textContent = file.name;
      var bar = document.createElement("progress"); bar.max = 1; bar.value = 0;
      var state = document.createElement("span"); state.className = "ustate"; state.textContent = tr("uploading");
      var retry = document.createElement("button"); retry.type = "button"; retry.textContent = tr("retry"); retry.hidden = true;
      var remove = document.createElement("button"); remove.type = "button"; remove.textContent = tr("remove");
      li.appendChild(name); li.appendChild(bar); li.appendChild(state); li.appendChild(retry); li.appendChild(remove);
      list.appendChild(li);
      var id = null, gone = false;

      function attempt(n) {
        li.className = "uploading"; retry.hidden = true; bar.hidden = false;
        state.textContent = n > 0 ? tr("retrying") : tr("uploading");
        postJSON(slotUrl, { content_type: file.type || "application/octet-stream", size: file.size })
          .then(function (ticket) {
            return send(ticket, file, function (p) { bar.value = p; }).then(function () { return ticket; });
          })
          .then(function (ticket) {
            if (gone) return;
            id = ticket.attachment_id; attach(id);
            li.className = "done"; bar.value = 1; state.textContent = tr("done");
          })
          .catch(function (e) {
            if (gone) return;
            // A refusal (type, size) will not change by retrying; a dropped connection may.
            var refused = e.status && e.status >= 400 && e.status < 500;
            if (!refused && n < MAX_AUTO_RETRIES) {
              state.textContent = tr("retrying");
              setTimeout(function () { attempt(n + 1); }, 1000 * Math.pow(2, n));
              return;
            }
            li.className = "failed"; bar.hidden = true;
            state.textContent = tr("failed") + (e.message && refused ? ": " + e.message : "");
            retry.hidden = refused;
          });
      }
      retry.addEventListener("click", function () { attempt(0); });
      remove.addEventListener("click", function () {
        gone = true; if (id) detach(id); li.parentNode.removeChild(li); count--;
      });
      attempt(0);
    }

    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files || [], function (f) {
        if (count >= max) return;
        count++; add(f);
      });
      input.value = "";
    });
  }

  // ---- one submission per tap ---------------------------------------------------------------
  function submitOnce(form) {
    var send = $("send"), status = $("send-status");
    form.addEventListener("submit", function (e) {
      var busy = form.querySelector("#upload-list li.uploading, #upload-list li.failed");
      if (busy) {
        e.preventDefault();
        if (status) status.textContent = status.getAttribute("data-wait");
        return;
      }
      if (form.getAttribute("data-sending")) { e.preventDefault(); return; }
      form.setAttribute("data-sending", "1");
      if (send) { send.disabled = true; send.textContent = send.getAttribute("data-sending"); }
    });
    window.addEventListener("pageshow", function () {
      form.removeAttribute("data-sending");
      if (send) send.disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
    var form = $("report-form");
    if (!form) return;
    hints(form);
    locate(form);
    uploads(form);
    submitOnce(form);
  });
})();
