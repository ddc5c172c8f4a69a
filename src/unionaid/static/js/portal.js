/* The worker's pages: upload progress for material photos sent through htmx (strict CSP, no
   inline scripts). A form with data-progress="<id of a <progress>>" shows its upload there. */
(function () {
  "use strict";

  function progressFor(form) {
    if (!(form instanceof HTMLFormElement) || !form.dataset.progress) { return null; }
    return document.getElementById(form.dataset.progress);
  }

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target;
    var bar = progressFor(form);
    if (!bar) { return; }
    bar.value = 0;
    bar.hidden = false;
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
    });
  });

  document.body.addEventListener("htmx:xhr:progress", function (event) {
    var bar = progressFor(event.target);
    var detail = event.detail || {};
    if (bar && detail.lengthComputable && detail.total) {
      bar.value = Math.round((detail.loaded / detail.total) * 100);
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    var bar = progressFor(form);
    if (!bar) { return; }
    bar.hidden = true;
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = false;
    });
  });
})();
