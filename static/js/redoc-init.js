// Starts ReDoc on /redoc from data attributes (no inline script: the page has a strict CSP).
(function () {
  "use strict";
  const container = document.getElementById("redoc-container");
  if (!container || typeof Redoc === "undefined") return;
  let options = {};
  try {
    options = JSON.parse(container.dataset.settings || "{}") || {};
  } catch (e) {
    options = {};
  }
  Redoc.init(container.dataset.schemaUrl, options, container);
})();
