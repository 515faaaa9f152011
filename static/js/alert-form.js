// Alert form island: show only the inputs the chosen condition needs (all show without JS).
(function () {
  "use strict";
  const kind = document.getElementById("id_kind");
  if (!kind) return;
  const fields = document.querySelectorAll(".alert-form [data-kinds]");
  function sync() {
    for (const f of fields) f.hidden = !f.dataset.kinds.split(" ").includes(kind.value);
  }
  kind.addEventListener("change", sync);
  sync();
})();
