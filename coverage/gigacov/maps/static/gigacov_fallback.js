/* gigacov map guard: never a blank page.
 *
 * Inlined at the top of <head>, before any other script, so that it runs even when every other
 * script of the page fails. It records scripts and stylesheets that fail to load and script
 * errors; when the page has loaded and the map runtime did not finish (window.gigacov.ready is
 * not true), it shows the bilingual message held in #gc-fallback, with what failed.
 * Basemap tiles that fail (no network) do not count: the map runtime notes them in the title bar.
 */
(function () {
  "use strict";
  var failures = [];
  function note(text) {
    if (failures.indexOf(text) < 0) failures.push(text);
  }
  window.addEventListener(
    "error",
    function (ev) {
      var t = ev.target;
      if (t && t !== window && t.tagName) {
        if (t.tagName === "SCRIPT") note("script " + (t.src || "(inline)"));
        else if (t.tagName === "LINK") note("stylesheet " + (t.href || ""));
        return;
      }
      note((ev.message || "script error") + (ev.lineno ? " (line " + ev.lineno + ")" : ""));
    },
    true
  );
  function show() {
    var box = document.getElementById("gc-fallback");
    if (!box) return;
    var list = document.getElementById("gc-fallback-what");
    if (list) {
      var items = failures.length ? failures : ["the map runtime did not start"];
      list.textContent = "";
      items.slice(0, 6).forEach(function (f) {
        var li = document.createElement("li");
        li.textContent = f;
        list.appendChild(li);
      });
    }
    box.style.display = "block";
  }
  window.addEventListener("load", function () {
    var ok = window.L && window.gigacov && window.gigacov.ready === true;
    var cssFailed = failures.some(function (f) { return f.indexOf("stylesheet ") === 0; });
    if (!ok || cssFailed) show();
  });
  window.gigacovFallback = { failures: failures, show: show };
})();
