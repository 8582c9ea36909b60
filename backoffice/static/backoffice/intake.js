// A keyboard-wedge scanner types into whatever has focus: always the IMEI field, unless a
// match is on screen and the person is grading it (then the scanned-IMEI field); a focused IMEI is selected, so the next
// scan replaces it. (A file, not inline script or onfocus="": the Content-Security-Policy
// allows scripts from this site only.)
window.addEventListener("load", function () {
  var field = document.getElementById("id_imei");
  if (!field) return;
  field.addEventListener("focus", function () { field.select(); });
  // A refused field already has focus (a11y.js): it stays there, with its message.
  if (document.activeElement && document.activeElement.getAttribute("aria-invalid") === "true") return;
  if (!document.getElementById("intake-match")) {
    field.focus();
    field.select();
  } else {
    // Found by reference: the device's own IMEI is scanned next, into this field.
    var scanned = document.getElementById("id_scanned_imei");
    if (scanned && !scanned.value) {
      scanned.focus();
    } else {
      // Matched by scan: the checklist's first answer, not 23 Tabs away (issue 24).
      var first = document.querySelector("#checklist input, #intake-match fieldset input");
      if (first) first.focus();
    }
  }
});
