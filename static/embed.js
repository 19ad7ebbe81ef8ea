// Embed an Assent form: <iframe src="https://assent.example/f/newsletter" data-assent-form></iframe>
// <script src="https://assent.example/static/embed.js" async></script>
// Resizes each Assent iframe to its content, using the height the form page reports.
(function () {
  "use strict";
  var origin = new URL(document.currentScript ? document.currentScript.src : window.location.href).origin;
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data || event.data.assent !== "resize") { return; }
    var frames = document.querySelectorAll("iframe[data-assent-form]");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.ceil(Number(event.data.height) || 0) + "px";
      }
    }
  });
})();
