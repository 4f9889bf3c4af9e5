"use strict";
// strata review: draws the changed objects from the JSON in #review-data.
// Every object gets a light section at once (its header); its body (structural
// changes, findings, diff) is drawn when it comes into view or is navigated to.
(function () {
  var objects = JSON.parse(document.getElementById("review-data").textContent);
  var list = document.getElementById("objects");
  var sections = [];
  var current = -1;
  var $ = function (id) { return document.getElementById(id); };
  var filters = { environment: $("f-environment"), wave: $("f-wave"), kind: $("f-kind"), status: $("f-status") };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // The filters' choices: the values the objects have, sorted.
  Object.keys(filters).forEach(function (key) {
    var seen = {};
    objects.forEach(function (o) { seen[o[key]] = true; });
    Object.keys(seen).sort().forEach(function (v) {
      var opt = el("option", null, v);
      opt.value = v;
      filters[key].appendChild(opt);
    });
  });

  function header(o) {
    var h = el("header");
    h.appendChild(el("span", "status " + o.status, o.status));
    h.appendChild(el("code", null, o.id));
    h.appendChild(el("span", "dim", o.target + " (" + o.versions + ") · wave " + o.wave));
    if (o.template) h.appendChild(el("code", "dim", o.template + (o.line ? ":" + o.line : "")));
    if (o.risks.length) h.appendChild(el("span", "risk", o.risks.length + " risk" + (o.risks.length > 1 ? "s" : "")));
    if (o.findings.length) h.appendChild(el("span", "dim", o.findings.length + " finding" + (o.findings.length > 1 ? "s" : "")));
    return h;
  }

  var fragment = document.createDocumentFragment();
  objects.forEach(function (o, i) {
    var s = el("section", "object");
    s.setAttribute("data-object", o.id);
    s.setAttribute("data-environment", o.environment);
    s.setAttribute("data-index", i);
    s.appendChild(header(o));
    sections.push(s);
    fragment.appendChild(s);
  });
  list.appendChild(fragment);

  function segments(td, row) {
    for (var k = 1; k < row.length; k++) {
      if (row[k] === "") continue;
      td.appendChild(k % 2 === 0 ? el("em", null, row[k]) : document.createTextNode(row[k]));
    }
  }

  function unified(rows) {
    var t = el("table", "diff");
    rows.forEach(function (r) {
      var tr = el("tr", r[0] === "+" ? "a" : r[0] === "-" ? "d" : r[0] === "@" ? "h" : "");
      tr.appendChild(el("td", "m", r[0] === "@" ? "" : r[0]));
      var td = el("td");
      segments(td, r);
      tr.appendChild(td);
      t.appendChild(tr);
    });
    return t;
  }

  // Side by side: removed lines on the left, added on the right, paired in order.
  function split(rows) {
    var t = el("table", "diff split");
    var i = 0;
    function cell(tr, r, cls) {
      var td = el("td", r ? cls : "");
      if (r) segments(td, r);
      tr.appendChild(td);
    }
    while (i < rows.length) {
      var r = rows[i];
      if (r[0] === "-" || r[0] === "+") {
        var del = [], add = [];
        while (i < rows.length && rows[i][0] === "-") del.push(rows[i++]);
        while (i < rows.length && rows[i][0] === "+") add.push(rows[i++]);
        for (var k = 0; k < Math.max(del.length, add.length); k++) {
          var tr = el("tr");
          cell(tr, del[k], "d");
          cell(tr, add[k], "a");
          t.appendChild(tr);
        }
        continue;
      }
      var row = el("tr", r[0] === "@" ? "h" : "");
      cell(row, r, "");
      cell(row, r, "");
      t.appendChild(row);
      i++;
    }
    return t;
  }

  function body(s) {
    if (s.querySelector(".body")) return;
    var o = objects[+s.getAttribute("data-index")];
    var b = el("div", "body");
    if (o.fields.length) {
      var ul = el("ul", "fields");
      // [path, kind, before, after]
      o.fields.forEach(function (f) {
        var li = el("li"), before = f[2], after = f[3];
        li.appendChild(el("span", "kind " + f[1].replace(" ", "-"), f[1]));
        li.appendChild(document.createTextNode(" " + f[0] + " "));
        if (before !== null) li.appendChild(el("del", null, before));
        if (before !== null && after !== null) li.appendChild(document.createTextNode(" → "));
        if (after !== null) li.appendChild(el("ins", null, after));
        ul.appendChild(li);
      });
      b.appendChild(ul);
    }
    o.risks.forEach(function (r) { b.appendChild(el("div", "notes risk", r.kind + " " + r.field + ": " + r.message)); });
    // [rule, severity, message, field, template, line]
    o.findings.forEach(function (f) {
      b.appendChild(el("div", "notes", f[1] + " [" + f[0] + "] " + f[3] + ": " + f[2] +
        (f[5] ? " (" + f[4] + ":" + f[5] + ")" : "")));
    });
    b.appendChild($("f-split").checked ? split(o.rows) : unified(o.rows));
    s.appendChild(b);
  }

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) { if (e.isIntersecting) { body(e.target); observer.unobserve(e.target); } });
  }, { rootMargin: "600px" }) : null;
  sections.forEach(function (s) { if (observer) observer.observe(s); else body(s); });

  function matches(o, text) {
    for (var key in filters) if (filters[key].value && o[key] !== filters[key].value) return false;
    if (!text) return true;
    var hay = [o.id, o.target, o.template || ""].concat(o.fields.map(function (f) { return f[0]; }))
      .concat(o.rows.map(function (r) { return r.slice(1).join(""); })).join("\n").toLowerCase();
    return hay.indexOf(text) >= 0;
  }

  function apply() {
    var text = $("f-text").value.trim().toLowerCase(), shown = 0;
    objects.forEach(function (o, i) {
      var show = matches(o, text);
      sections[i].hidden = !show;
      if (show) shown++;
    });
    $("shown").textContent = shown + " of " + objects.length + " objects shown";
    document.documentElement.setAttribute("data-shown", shown);
    Array.prototype.forEach.call(document.querySelectorAll(".cell"), function (c) {
      c.classList.toggle("active", c.getAttribute("data-environment") === filters.environment.value);
    });
  }

  Object.keys(filters).forEach(function (k) { filters[k].addEventListener("change", apply); });
  $("f-text").addEventListener("input", apply);
  $("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  $("f-split").addEventListener("change", function () {
    sections.forEach(function (s) { var b = s.querySelector(".body"); if (b) { s.removeChild(b); body(s); } });
  });
  Array.prototype.forEach.call(document.querySelectorAll(".cell"), function (c) {
    c.addEventListener("click", function () {
      var env = c.getAttribute("data-environment");
      filters.environment.value = filters.environment.value === env ? "" : env;
      apply();
      $("changes").scrollIntoView();
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll(".wave-link"), function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      filters.wave.value = a.getAttribute("data-wave");
      apply();
      $("changes").scrollIntoView();
    });
  });

  // j / k: the next / previous shown object.
  function go(step) {
    var i = current;
    do { i += step; } while (i >= 0 && i < sections.length && sections[i].hidden);
    if (i < 0 || i >= sections.length) return;
    if (current >= 0) sections[current].classList.remove("current");
    current = i;
    var s = sections[i];
    s.classList.add("current");
    body(s);
    s.scrollIntoView({ block: "start" });
    document.documentElement.setAttribute("data-current", s.getAttribute("data-object") + "@" + s.getAttribute("data-environment"));
  }
  document.addEventListener("keydown", function (e) {
    if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "SELECT")) return;
    if (e.key === "j") go(1);
    else if (e.key === "k") go(-1);
  });
  apply();
})();
