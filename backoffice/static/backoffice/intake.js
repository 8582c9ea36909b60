// A keyboard-wedge scanner types into whatever has focus: always the IMEI field, unless a
// match is on screen and the person is grading it; a focused IMEI is selected, so the next
// scan replaces it. (A file, not inline script or onfocus="": the Content-Security-Policy
// allows scripts from this site only.)
window.addEventListener("load", function () {
  var field = document.getElementById("id_imei");
  if (!field) return;
  field.addEventListener("focus", function () { field.select(); });
  if (!document.getElementById("intake-match")) {
    field.focus();
    field.select();
  }
});
