/* A little keyboard help and linking; the page reads the same without it. */
(function () {
  "use strict";
  var crits = Array.prototype.slice.call(document.querySelectorAll(".crit"));
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.altKey || e.ctrlKey || e.metaKey || (t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.key !== "j" && e.key !== "k") return;
    var here = t && t.closest ? t.closest(".crit") : null;
    var i = crits.indexOf(here);
    var next = e.key === "j" ? i + 1 : (i < 0 ? 0 : i - 1);
    if (next >= 0 && next < crits.length) { crits[next].focus(); e.preventDefault(); }
  });
  /* A rule or concept in the list lights up its highlights in the text, and back. */
  function light(el, on) {
    var crit = el.closest(".crit");
    var ref = el.getAttribute("data-ref");
    if (!crit || !ref) return;
    var parts = ref.split(" ");
    var sel = ".m[data-" + parts[0] + "~='" + parts[1] + "']";
    crit.querySelectorAll(sel).forEach(function (m) {
      if (m.closest(".crit") === crit) m.classList.toggle("hot", on);
    });
    el.classList.toggle("hot", on);
  }
  ["mouseover", "mouseout", "focusin", "focusout"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var el = e.target && e.target.closest ? e.target.closest("[data-ref]") : null;
      if (el) light(el, type === "mouseover" || type === "focusin");
    });
  });
  var filter = document.getElementById("filter");
  if (filter) {
    var rows = Array.prototype.slice.call(document.querySelectorAll(".index-row"));
    filter.addEventListener("input", function () {
      var q = filter.value.toLowerCase();
      rows.forEach(function (r) { r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0; });
    });
  }
  document.documentElement.setAttribute("data-js", "ready");
})();
