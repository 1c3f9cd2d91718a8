// phananh staff console script: no inline code anywhere (CSP), progressive enhancement only.
// - warns before the session expires (body[data-expires-at], seconds since epoch)
// - refreshes live regions (element[data-refresh-url]) every few seconds while visible
// - uploads files through the upload-slot flow with progress (input[data-upload])
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function sessionWarning() {
    var exp = parseInt(document.body.getAttribute("data-expires-at") || "", 10);
    var box = document.getElementById("session-warning");
    if (!exp || !box) return;
    function check() {
      var left = exp * 1000 - Date.now();
      if (left <= 0) { window.location.href = "/console/login?expired=1&next=" + encodeURIComponent(location.pathname + location.search); return; }
      if (left < 10 * 60 * 1000) {
        box.hidden = false;
        box.textContent = "Phiên đăng nhập sẽ hết hạn sau " + Math.max(1, Math.round(left / 60000)) + " phút. Hãy lưu công việc và đăng nhập lại.";
      }
    }
    check();
    setInterval(check, 30000);
  }

  function liveRegions() {
    document.querySelectorAll("[data-refresh-url]").forEach(function (el) {
      var url = el.getAttribute("data-refresh-url");
      var every = parseInt(el.getAttribute("data-refresh-every") || "4000", 10);
      function tick() {
        if (document.hidden) return;
        fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (r) {
            if (r.redirected || r.status === 401) { location.reload(); return null; }
            return r.ok ? r.text() : null;
          })
          .then(function (html) { if (html !== null && html !== undefined && el.innerHTML !== html) el.innerHTML = html; })
          .catch(function () {});
      }
      setInterval(tick, every);
    });
  }

  function uploads() {
    document.querySelectorAll("input[type=file][data-upload]").forEach(function (input) {
      var target = document.getElementById(input.getAttribute("data-upload"));
      var bar = document.getElementById(input.getAttribute("data-progress"));
      var list = document.getElementById(input.getAttribute("data-list"));
      input.addEventListener("change", function () {
        Array.prototype.forEach.call(input.files, function (file) { upload(file, target, bar, list); });
        input.value = "";
      });
    });
  }

  function upload(file, target, bar, list) {
    var item = document.createElement("li");
    item.textContent = file.name + ": đang chuẩn bị…";
    if (list) list.appendChild(item);
    fetch("/console/uploads", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ content_type: file.type || "application/octet-stream", size: file.size })
    }).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw new Error(b.detail || "Không tạo được chỗ tải lên"); return b; });
    }).then(function (ticket) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        var method = ticket.upload.method || "PUT";
        xhr.open(method, ticket.upload.url);
        // Core sends the headers the upload needs as [name, value] pairs.
        (ticket.upload.headers || []).forEach(function (pair) { xhr.setRequestHeader(pair[0], pair[1]); });
        // S3: a POST form whose signed fields come first, then the file as "file".
        var body = file;
        if (method === "POST") {
          body = new FormData();
          (ticket.upload.fields || []).forEach(function (pair) { body.append(pair[0], pair[1]); });
          body.append("file", file);
        }
        xhr.upload.onprogress = function (e) {
          if (e.lengthComputable) {
            var pct = Math.round(100 * e.loaded / e.total);
            if (bar) { bar.hidden = false; bar.value = pct; }
            item.textContent = file.name + ": " + pct + "%";
          }
        };
        xhr.onload = function () { (xhr.status >= 200 && xhr.status < 300) ? resolve(ticket) : reject(new Error("Tải lên thất bại (" + xhr.status + ")")); };
        xhr.onerror = function () { reject(new Error("Mất kết nối khi tải lên")); };
        xhr.send(body);
      });
    }).then(function (ticket) {
      item.textContent = file.name + ": đã tải lên";
      item.setAttribute("data-attachment-id", ticket.attachment_id);
      if (target) target.value = target.value ? target.value + "," + ticket.attachment_id : ticket.attachment_id;
    }).catch(function (e) {
      item.textContent = file.name + ": " + e.message;
      item.className = "error";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sessionWarning();
    liveRegions();
    uploads();
    if (window.phananhMap) window.phananhMap();
  });
})();
