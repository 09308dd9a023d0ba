"use strict";
/* opencwpp dashboard: start a scan and follow its progress by polling /api/scan.
   Every server value is set with .textContent / .value, never as HTML. */
(function () {
  var root = document.getElementById("scan");
  if (!root) { return; }
  var start = document.getElementById("scan-start");
  var bar = document.getElementById("scan-bar");
  var percent = document.getElementById("scan-percent");
  var phase = document.getElementById("scan-phase");
  var error = document.getElementById("scan-error");
  var warnings = document.getElementById("scan-warnings");
  var result = document.getElementById("scan-result");
  var summary = document.getElementById("scan-summary");
  var POLL_MS = 250;

  function describe(s) {
    if (s.state === "running") {
      var what = s.phase === "sync" ? "Syncing AWS" : "Assessing";
      var step = s.step ? ": " + s.step : "";
      var count = s.total ? " (" + s.done + " of " + s.total + ")" : "";
      return what + step + count;
    }
    if (s.state === "done") { return "Finished."; }
    if (s.state === "failed") { return "Stopped."; }
    return "No scan started since the dashboard started.";
  }

  function show(s) {
    root.dataset.state = s.state;
    bar.value = s.percent;
    percent.textContent = Math.round(s.percent) + " %";
    phase.textContent = describe(s);
    error.textContent = s.error ? "Scan failed: " + s.error : "";
    while (warnings.firstChild) { warnings.removeChild(warnings.firstChild); }
    (s.warnings || []).forEach(function (w) {
      var li = document.createElement("li");
      li.textContent = w;
      warnings.appendChild(li);
    });
    if (s.state === "done" && s.result) {
      summary.textContent = s.result.findings + " findings, " + s.result.failing +
        " failing (run " + s.result.run_id + ")";
      result.hidden = false;
    } else {
      result.hidden = true;
    }
    if (start) { start.disabled = s.state === "running"; }
  }

  function poll() {
    fetch("/api/scan", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.json(); })
      .then(function (s) {
        show(s);
        if (s.state === "running") { setTimeout(poll, POLL_MS); }
      })
      .catch(function () { error.textContent = "The server did not answer."; });
  }

  if (start) {
    start.addEventListener("click", function () {
      start.disabled = true;
      error.textContent = "";
      fetch("/api/scan", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CWPP-Request": "1", "Accept": "application/json" }
      }).then(function (resp) {
        return resp.json().then(function (data) { return { status: resp.status, data: data }; });
      }).then(function (r) {
        if (r.status === 409) {
          show(r.data.scan);
          error.textContent = "A scan is already running: following it.";
          poll();
          return;
        }
        if (r.status >= 400) {
          error.textContent = "Not started: " + (r.data.error || ("HTTP " + r.status));
          start.disabled = false;
          return;
        }
        show(r.data);
        poll();
      }).catch(function () {
        error.textContent = "Not started: the server did not answer.";
        start.disabled = false;
      });
    });
  }
  if (root.dataset.state === "running") { poll(); }
})();
