// Activation pages: fill the printed code in from the address's #code=… (a QR code's link;
// the fragment never reaches the server, nor its logs), then drop it from the address bar.
// The print sheet: its "print" button.
(function () {
  "use strict";
  var match = /(?:^#|&)code=([A-Za-z0-9-]{4,20})/.exec(window.location.hash || "");
  var field = document.getElementById("id_code");
  if (match && field && !field.value) {
    field.value = match[1].toUpperCase();
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname);
    }
    var next = document.getElementById("id_name");
    if (next) { next.focus(); }
  }
  document.querySelectorAll("[data-print-page]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
