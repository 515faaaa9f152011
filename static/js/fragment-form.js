// /reset-password and /verify-email: the mailed link carries its code in the URL fragment
// (#uid=..&token=.. or #token=..), which browsers never send to the server, so it stays out
// of every log. This copies the fragment into the form's fields, hides the paste-it-yourself
// part and removes the fragment from the address bar. Without JavaScript the fields show and
// the user pastes the code from the mail.
(function () {
  "use strict";
  const form = document.querySelector("form[data-fragment-fields]");
  if (!form || !location.hash) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const names = form.dataset.fragmentFields.split(" ");
  if (!names.every((name) => params.get(name))) return;
  for (const name of names) {
    const input = form.elements.namedItem(name);
    if (input) {
      input.value = params.get(name);
      input.type = "hidden";
    }
  }
  const manual = form.querySelector(".fragment-manual");
  if (manual) manual.hidden = true;
  const found = form.querySelector(".fragment-found");
  if (found) found.hidden = false;
  history.replaceState(null, "", location.pathname + location.search);
  const next = form.querySelector("input:not([type=hidden])");
  if (next) next.focus();
})();
