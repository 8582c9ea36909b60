// The counter's staff screen while the offer waits for the customer on their own device
// (the second screen): ask every few seconds where the buyback stands, and reload the page
// once the customer has signed or declined, so staff never have to press Refresh. Without
// JavaScript the page's Refresh link does the same.
(function () {
  "use strict";
  var box = document.getElementById("second-screen");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-step-url");
  var waiting = box.getAttribute("data-step");
  var status = document.getElementById("customer-status");
  function ask() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (answer && answer.step !== waiting) {
          if (status) status.textContent = status.getAttribute("data-moved");
          window.location.reload();
          return;
        }
        window.setTimeout(ask, 3000);
      })
      .catch(function () {
        window.setTimeout(ask, 10000); // the network hiccuped: ask again, less often
      });
  }
  window.setTimeout(ask, 3000);
})();
