/* Progressive enhancement of the apply progress page: poll the JSON endpoint and update the
   text, the bar and the count in place. Without JavaScript the page reloads itself instead. */
(function () {
  "use strict";
  var box = document.getElementById("apply-progress");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-progress-url");
  var text = document.getElementById("progress-text");
  var bar = document.getElementById("progress-bar");
  var count = document.getElementById("progress-count");
  var next = document.getElementById("progress-next");
  var finished = box.getAttribute("data-state") === "done" || box.getAttribute("data-state") === "failed";

  function show(p) {
    box.setAttribute("data-state", p.state);
    if (text.textContent !== p.text) { text.textContent = p.text; }
    if (p.total) { bar.max = p.total; bar.value = p.done; }
    bar.textContent = p.done + " of " + (p.total === null ? "?" : p.total);
    count.textContent = p.done + " of " + (p.total === null ? "?" : p.total) + " done" +
      (p.failed ? ", " + p.failed + " failed" : "") + ".";
    if (p.finished) { next.hidden = false; }
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (p) { show(p); if (!p.finished) { window.setTimeout(poll, 1000); } })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  if (!finished) { window.setTimeout(poll, 500); }
}());
