"use strict";
/* opencwpp findings table: search, filters and sorting over the embedded JSON, rendered
   virtually (only the visible rows exist in the DOM) so 50,000 findings stay fast.
   Untrusted strings are only ever assigned with textContent / title, never as HTML. */
(function () {
  var src = document.getElementById("findings-data");
  var root = document.getElementById("ft");
  if (!src || !root) { return; }
  var doc = JSON.parse(src.textContent);
  var S = doc.strings, ROWS = doc.rows, ROW_H = 34, OVERSCAN = 8;
  // row: [sev, status, pillar, check, title, uid, name, account, region, type, tags, reason, lifecycle]
  var SEV = ["informational", "low", "medium", "high", "critical"];
  var STATUS = ["FAIL", "PASS", "MUTED", "NOT_ASSESSED"];
  var q = function (sel) { return root.querySelector(sel); };
  var search = q("#ft-search"), count = q("#ft-count"), viewport = q(".ft-viewport");
  var spacer = q(".ft-spacer"), body = q(".ft-rows");
  var selects = root.querySelectorAll("select[data-col]");
  var haystack = new Array(ROWS.length);
  for (var i = 0; i < ROWS.length; i++) {
    var r = ROWS[i];
    haystack[i] = [S[r[3]], S[r[4]], r[5], r[6], S[r[7]], S[r[8]], S[r[9]], r[10], r[11]].join("\u0001").toLowerCase();
  }
  function fill(sel, values) {
    values.forEach(function (v) {
      var o = document.createElement("option"); o.value = v.value; o.textContent = v.label; sel.appendChild(o);
    });
  }
  selects.forEach(function (sel) {
    var col = +sel.dataset.col, seen = {}, values = [];
    ROWS.forEach(function (r) { seen[r[col]] = true; });
    Object.keys(seen).forEach(function (k) {
      var label = col === 0 ? SEV[k] : col === 1 ? STATUS[k] : S[k];
      values.push({ value: k, label: label || "—" });
    });
    values.sort(function (a, b) { return col <= 1 ? b.value - a.value : a.label < b.label ? -1 : 1; });
    fill(sel, values);
  });
  var order = ROWS.map(function (_, i) { return i; });
  var view = order.slice(), sortCol = 0, sortDir = -1;
  function key(r, col) { return col <= 1 ? r[col] : typeof r[col] === "number" ? S[r[col]] : r[col]; }
  function applySort() {
    order.sort(function (a, b) {
      var ka = key(ROWS[a], sortCol), kb = key(ROWS[b], sortCol);
      if (ka < kb) { return -sortDir; }
      if (ka > kb) { return sortDir; }
      if (sortCol !== 1 && ROWS[a][1] !== ROWS[b][1]) { return ROWS[a][1] - ROWS[b][1]; } // FAIL first
      return a - b;
    });
  }
  function applyFilter() {
    var needle = search.value.trim().toLowerCase(), wanted = [];
    selects.forEach(function (sel) { if (sel.value !== "") { wanted.push([+sel.dataset.col, +sel.value]); } });
    view = order.filter(function (i) {
      var r = ROWS[i];
      for (var w = 0; w < wanted.length; w++) { if (r[wanted[w][0]] !== wanted[w][1]) { return false; } }
      return !needle || haystack[i].indexOf(needle) !== -1;
    });
    count.textContent = view.length.toLocaleString("en") + " of " + ROWS.length.toLocaleString("en") + " findings";
    spacer.style.height = (view.length * ROW_H) + "px";
    viewport.scrollTop = 0;
    draw(true);
  }
  function cell(cls, text, title) {
    var d = document.createElement("div"); d.className = "ft-c " + cls; d.textContent = text;
    if (title) { d.title = title; }
    return d;
  }
  function badge(cls, text) {
    var d = document.createElement("div"), b = document.createElement("span");
    d.className = "ft-c c-badge"; b.className = "badge " + cls; b.textContent = text; d.appendChild(b);
    return d;
  }
  var drawn = [-1, -1];
  function draw(force) {
    var first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN);
    var last = Math.min(view.length, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_H) + OVERSCAN);
    if (!force && first === drawn[0] && last === drawn[1]) { return; }
    drawn = [first, last];
    body.style.transform = "translateY(" + (first * ROW_H) + "px)";
    var frag = document.createDocumentFragment();
    for (var v = first; v < last; v++) {
      var r = ROWS[view[v]], row = document.createElement("div");
      row.className = "ft-row";
      row.appendChild(badge("sev-" + SEV[r[0]], SEV[r[0]]));
      var st = badge("st-" + STATUS[r[1]], STATUS[r[1]].replace("_", " "));
      if (S[r[12]]) { var lc = document.createElement("span"); lc.className = "badge lc-" + S[r[12]]; lc.textContent = S[r[12]]; st.appendChild(lc); }
      row.appendChild(st);
      row.appendChild(cell("c-check mono", S[r[3]], S[r[4]]));
      row.appendChild(cell("c-res", r[6] || r[5], r[5]));
      row.appendChild(cell("c-acct mono", S[r[7]]));
      row.appendChild(cell("c-region", S[r[8]]));
      row.appendChild(cell("c-tags", r[10], r[10]));
      row.appendChild(cell("c-detail", r[11], r[11]));
      frag.appendChild(row);
    }
    body.replaceChildren(frag);
  }
  var timer = null;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(applyFilter, 120); });
  selects.forEach(function (sel) { sel.addEventListener("change", applyFilter); });
  viewport.addEventListener("scroll", function () { window.requestAnimationFrame(function () { draw(false); }); });
  root.querySelectorAll("[data-sort]").forEach(function (h) {
    h.addEventListener("click", function () {
      var col = +h.dataset.sort;
      sortDir = col === sortCol ? -sortDir : (col <= 1 ? -1 : 1);
      sortCol = col;
      root.querySelectorAll("[data-sort]").forEach(function (o) { o.removeAttribute("aria-sort"); });
      h.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      applySort(); applyFilter();
    });
  });
  applySort();
  applyFilter();
  root.classList.add("ready");
})();
