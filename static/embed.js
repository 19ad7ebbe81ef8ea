// Embed an Assent form on your own page:
//   <iframe src="https://assent.example/f/newsletter" data-assent-form title="Newsletter" style="width:100%;border:0"></iframe>
//   <script src="https://assent.example/embed.js" async></script>
// Resizes each Assent iframe (those marked data-assent-form, or the iframe just before this script)
// to the height its page reports. Messages are accepted only from Assent's own origin, and only
// from the window of one of those iframes.
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script ? script.src : window.location.href).origin;
  var previous = script && script.previousElementSibling;
  var fallback = previous && previous.tagName === "IFRAME" ? previous : null;

  function frames() {
    var marked = Array.prototype.slice.call(document.querySelectorAll("iframe[data-assent-form]"));
    if (fallback && marked.indexOf(fallback) < 0) { marked.push(fallback); }
    return marked;
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== "assent:height") { return; }
    var height = Math.ceil(Number(data.height));
    if (!(height > 0) || height > 100000) { return; }
    frames().forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.height = height + "px";
        if (!frame.hasAttribute("scrolling")) { frame.setAttribute("scrolling", "no"); }
      }
    });
  });

  // This script may run after a frame has already reported its height (it is `async`, or added
  // late): ask every frame to report again now that someone listens.
  frames().forEach(function (frame) {
    if (frame.contentWindow) { frame.contentWindow.postMessage({ type: "assent:measure" }, origin); }
  });
})();
