/* Application pages: the fast-track reason is asked for only when fast-track is ticked.
   No inline scripts (strict CSP). */
(function () {
  "use strict";
  document.querySelectorAll("[data-requires]").forEach(function (input) {
    var box = document.getElementById(input.dataset.requires);
    var wrapper = input.closest(".mb-3") || input;
    if (!box) { return; }
    function sync() { wrapper.classList.toggle("d-none", !box.checked); }
    box.addEventListener("change", sync);
    sync();
  });
})();
