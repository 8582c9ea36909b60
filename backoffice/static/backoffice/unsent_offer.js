// An offer typed into the quote panel but not sent must not vanish when staff press the
// buyer details' save (or leave the page): stop, say so, and point at Send Quote.
(function () {
  "use strict";
  var quote = document.querySelector("form[data-quote-form]");
  var details = document.getElementById("tradein_form");
  if (!quote) return;
  var amount = quote.querySelector("input[name=amount]");
  var sending = false;
  function unsent() {
    return amount && amount.value.trim() !== "" && amount.value !== amount.defaultValue;
  }
  function warn() {
    var box = document.getElementById("unsent-offer");
    box.hidden = false;
    box.querySelector("[data-amount]").textContent = amount.value;
    box.scrollIntoView({ block: "center" });
    amount.focus();
  }
  // "Yes, send it" was asked for one amount: typing another hides (and unticks) it, so the
  // form neither demands nor sends a yes given to an amount no longer there. The server asks
  // again if the new amount needs it.
  var yes = quote.querySelector("[data-confirm-offer]");
  var askedFor = quote.querySelector("input[name=confirmed_amount]");
  if (yes && askedFor && amount) {
    var row = yes.closest(".group") || yes.parentElement;
    var follow = function () {
      var same = amount.value.trim() !== "" && Number(amount.value) === Number(askedFor.value);
      row.style.display = same ? "" : "none";
      if (!same) yes.checked = false;
    };
    amount.addEventListener("input", follow);
    follow();
  }
  quote.addEventListener("submit", function () { sending = true; });
  if (details) {
    details.addEventListener("submit", function (event) {
      if (unsent()) {
        event.preventDefault();
        warn();
      }
    });
  }
  var discard = document.querySelector("[data-discard-offer]");
  if (discard) {
    discard.addEventListener("click", function () {
      amount.value = amount.defaultValue;
      document.getElementById("unsent-offer").hidden = true;
    });
  }
  window.addEventListener("beforeunload", function (event) {
    if (!sending && unsent()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
