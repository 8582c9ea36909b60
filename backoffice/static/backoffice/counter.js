// The counter's start page: the first empty field has the focus, so staff type (and a USB
// scanner types the IMEI, then Enter) without a click. Set once the page has loaded, as the
// intake bench does: `autofocus` alone is lost to the dashboard's own scripts.
window.addEventListener("load", function () {
  "use strict";
  var field = document.querySelector("#start-form [autofocus]");
  if (!field) return;
  // A refused field already has focus (a11y.js): it stays there, with its message.
  var active = document.activeElement;
  if (active && active.getAttribute("aria-invalid") === "true") return;
  field.focus();
});
