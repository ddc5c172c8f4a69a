/* Pairing form (添加结对): show the unit select for 一人一企 and the member search for
   一对一联系户. Without JavaScript both stay visible. No inline scripts (strict CSP). */
(function () {
  "use strict";
  var kind = document.getElementById("id_kind");
  if (!kind) { return; }
  var unitGroup = document.getElementById("group-target_unit");
  var householdParts = [document.getElementById("member-search-section"),
                        document.getElementById("picked-member")];
  function sync() {
    var household = kind.value === "household";
    if (unitGroup) { unitGroup.classList.toggle("d-none", household); }
    householdParts.forEach(function (part) {
      if (part) { part.classList.toggle("d-none", !household); }
    });
  }
  kind.addEventListener("change", sync);
  sync();
})();
