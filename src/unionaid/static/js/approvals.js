/* Approval pages: select all batchable to-dos; add steps in the flow editor and show the
   fields that fit each step's kind of approver. No inline scripts (strict CSP). */
(function () {
  "use strict";

  // To-do list: "select all" ticks only the rows whose step allows batch approval. The batch
  // button is off while nothing is ticked and shows the count; the confirm (unionaid.js reads
  // the form's data-confirm) states the exact number. Without scripts the server refuses an
  // empty batch with a message.
  var all = document.getElementById("todo-select-all");
  var batchForm = document.getElementById("todo-form");
  var batchButton = document.getElementById("batch-approve");
  function refreshBatch() {
    if (!batchForm || !batchButton) { return; }
    var n = batchForm.querySelectorAll("input.todo-batch:checked").length;
    batchButton.disabled = n === 0;
    var count = document.getElementById("batch-count");
    var wrap = document.getElementById("batch-count-wrap");
    if (count) { count.textContent = String(n); }
    if (wrap) { wrap.classList.toggle("d-none", n === 0); }
    var template = batchForm.dataset.confirmTemplate || "";
    batchForm.dataset.confirm = template.replace("{n}", String(n));
  }
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input.todo-batch").forEach(function (box) {
        box.checked = all.checked;
      });
      refreshBatch();
    });
  }
  if (batchForm) {
    batchForm.addEventListener("change", function (event) {
      if (event.target.matches("input.todo-batch")) { refreshBatch(); }
    });
    refreshBatch();
  }

  // Task page: 驳回 ends the case, so ask first; once confirmed here, the server does not ask
  // again (without scripts it shows its own confirm step).
  document.querySelectorAll("button[data-confirm-reject]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirmReject)) {
        event.preventDefault();
        return;
      }
      var confirmed = document.getElementById("decision-confirmed");
      if (confirmed) { confirmed.value = "1"; }
    });
  });

  // Flow editor: a post relative to the applicant, or a named person (节点到人).
  function showKindFields(step) {
    var select = step.querySelector("select[data-step-kind]");
    if (!select) { return; }
    var named = select.value === "user";
    step.querySelectorAll(".step-position").forEach(function (el) { el.classList.toggle("d-none", named); });
    step.querySelectorAll(".step-user").forEach(function (el) { el.classList.toggle("d-none", !named); });
  }

  var steps = document.getElementById("flow-steps");
  if (!steps) { return; }
  steps.querySelectorAll("[data-step]").forEach(showKindFields);
  steps.addEventListener("change", function (event) {
    if (event.target.matches("select[data-step-kind]")) {
      showKindFields(event.target.closest("[data-step]"));
    }
  });

  var add = document.getElementById("add-step");
  var template = document.getElementById("step-template");
  var total = document.querySelector("input[name$='-TOTAL_FORMS']");
  if (!add || !template || !total) { return; }
  add.classList.remove("d-none");
  add.addEventListener("click", function () {
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    var step = holder.firstElementChild;
    while (step && !step.matches("[data-step]")) { step = step.nextElementSibling; }
    if (!step) { return; }
    steps.appendChild(step);
    total.value = String(index + 1);
    if (window.htmx) { window.htmx.process(step); }
    showKindFields(step);
    var name = step.querySelector("input[name$='-name']");
    if (name) { name.focus(); }
  });
})();
