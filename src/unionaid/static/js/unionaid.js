/* unionaid back office: small behaviours, no inline scripts (strict CSP). */
(function () {
  "use strict";

  // <form data-confirm="…">: ask before submitting (withdraw consent, close a unit …).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    }
  }, true);

  // A revealed ID number / phone / bank account goes back to its masked form after a minute,
  // so a clear value does not stay on an unattended screen.
  var REMASK_AFTER_MS = 60000;
  document.body.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll(".revealed[data-masked]").forEach(function (el) {
      if (el.dataset.timer) { return; }
      el.dataset.timer = "1";
      window.setTimeout(function () {
        el.textContent = el.dataset.masked || "—";
        el.classList.remove("revealed");
        var note = el.nextElementSibling;
        if (note) { note.remove(); }
      }, REMASK_AFTER_MS);
    });
  });
})();
