"use strict";
/* opencwpp dashboard: filter selects submit on change; the mute dialog posts a rule to the API.
   Untrusted values are only ever set with .value / .textContent, never as HTML. */
(function () {
  var filters = document.getElementById("filters");
  if (filters) {
    filters.querySelectorAll("select").forEach(function (sel) {
      sel.addEventListener("change", function () { filters.submit(); });
    });
  }
  var dialog = document.getElementById("mute-dialog");
  if (!dialog) { return; }
  var form = document.getElementById("mute-form");
  var error = document.getElementById("mute-error");
  var current = null;
  function inDays(n) {
    var d = new Date(Date.now() + n * 86400000);
    return d.toISOString().slice(0, 10);
  }
  document.querySelectorAll(".mute-btn").forEach(function (btn) {
    btn.addEventListener("click", function () {
      current = btn;
      ["check", "resource", "account", "region"].forEach(function (k) { form.elements[k].value = btn.dataset[k]; });
      form.elements.expires.value = inDays(90);
      error.textContent = "";
      dialog.showModal();
      form.elements.owner.focus();
    });
  });
  document.getElementById("mute-cancel").addEventListener("click", function () { dialog.close(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {};
    ["check", "resource", "account", "region", "owner", "reason", "expires"].forEach(function (k) { body[k] = form.elements[k].value; });
    fetch("/api/mutes", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CWPP-Request": "1" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok) {
        var detail = result.data.error || (result.data.detail && result.data.detail[0] && result.data.detail[0].msg) || "refused";
        error.textContent = "Not muted: " + detail;
        return;
      }
      dialog.close();
      if (current) { current.textContent = "Muted"; current.disabled = true; current.classList.add("done"); }
    }).catch(function () { error.textContent = "Not muted: the server did not answer."; });
  });
})();
