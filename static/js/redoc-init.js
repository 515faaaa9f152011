// Starts ReDoc on /redoc from data attributes (no inline script: the page has a strict CSP).
(function () {
  "use strict";
  const container = document.getElementById("redoc-container");
  if (!container || typeof Redoc === "undefined") return;
  // ReDoc's sidebar footer hard-codes its logo from cdn.redoc.ly: the page loads nothing
  // external, so that one image becomes an empty local one (no CSP violation, no request).
  const EMPTY = "data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E";
  const local = (value) => (/^(https?:)?\/\//i.test(String(value)) ? EMPTY : value);
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    const img = this instanceof HTMLImageElement && String(name).toLowerCase() === "src";
    return setAttribute.call(this, name, img ? local(value) : value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set(value) {
      src.set.call(this, local(value));
    },
  });
  let options = {};
  try {
    options = JSON.parse(container.dataset.settings || "{}") || {};
  } catch (e) {
    options = {};
  }
  Redoc.init(container.dataset.schemaUrl, options, container);
})();
