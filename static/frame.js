// Runs on Assent's own pages. Inside an iframe it tells the embedding page (see /embed.js) how
// tall the content is, as {type: "assent:height", height}; on a page with errors it moves focus
// to the error summary. (A file, not an inline script: the CSP allows scripts from 'self' only.)
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  if (window.parent === window) { return; }
  var last = 0;
  function report() {
    // The root element's own box: scrollHeight never falls below the iframe's height, so the
    // iframe could grow but never shrink.
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      // Only a height is sent, nothing the person typed: any embedding page may read it.
      window.parent.postMessage({ type: "assent:height", height: height }, "*");
    }
  }
  // embed.js asks again when it starts listening after this page already reported.
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.type === "assent:measure") {
      last = 0;
      report();
    }
  });
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  if (window.ResizeObserver) { new ResizeObserver(report).observe(document.documentElement); }
  report();
})();
