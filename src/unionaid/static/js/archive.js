/* The hardship archive's pages: small behaviours, no inline scripts (strict CSP). */
(function () {
  "use strict";

  // Closing a record: the note is needed only when the reason is "other"; hide it otherwise
  // (the service checks it anyway).
  var form = document.getElementById("archive-action-form");
  if (form && form.dataset.action === "close") {
    var reason = form.querySelector("select[name='reason']");
    var note = form.querySelector("input[name='note']");
    var row = note ? note.closest(".mb-3") : null;
    var sync = function () {
      if (!row || !reason) { return; }
      row.classList.toggle("archive-hidden", reason.value !== "other" && !note.value);
    };
    if (reason) { reason.addEventListener("change", sync); }
    sync();
  }

  // An objection found true (upheld) means the case must be rejected: ask before saving.
  document.querySelectorAll("form[data-upheld-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (event) {
      var upheld = f.querySelector("select[name$='upheld']");
      if (upheld && upheld.value === "yes" && f.dataset.upheldConfirm &&
          !window.confirm(f.dataset.upheldConfirm)) {
        event.preventDefault();
      }
    });
  });
})();
