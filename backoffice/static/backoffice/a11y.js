// Staff pages for everyone (issue 24). A file, not inline script: the Content-Security-Policy
// allows scripts from this site only.
(function () {
  "use strict";

  // Results announced: the page's messages ("Quote sent", "received, grade B", a refusal) are
  // copied into live regions once the page has loaded; a screen reader reads text that
  // arrives in a live region, not text that was already there.
  function liveRegion(id, role) {
    var el = document.createElement("div");
    el.id = id;
    el.className = "bo-sr-only";
    el.setAttribute("role", role);
    el.setAttribute("aria-live", role === "alert" ? "assertive" : "polite");
    document.body.appendChild(el);
    return el;
  }

  function announce() {
    var status = liveRegion("bo-live-status", "status");
    var alert = liveRegion("bo-live-alert", "alert");
    var said = { status: [], alert: [] };
    document.querySelectorAll("[data-bo-message]").forEach(function (m) {
      var text = m.textContent.replace(/\s+/g, " ").trim();
      said[m.getAttribute("data-bo-message") === "error" ? "alert" : "status"].push(text);
    });
    var refusal = document.getElementById("intake-message");
    if (refusal) said.alert.push(refusal.textContent.replace(/\s+/g, " ").trim());
    window.setTimeout(function () {
      status.textContent = said.status.join(" ");
      alert.textContent = said.alert.join(" ");
    }, 150);
  }

  // A server-side form error: focus goes to the first field the server refused, whose
  // message is linked to it (aria-describedby) and read with it.
  function focusFirstError() {
    var bad = document.querySelector("form [aria-invalid=true]");
    if (bad) {
      var details = bad.closest("details");
      if (details) details.open = true;
      bad.focus();
      return true;
    }
    return false;
  }

  // Focus not obscured (2.4.11): what has focus scrolls clear of a sticky or fixed bar.
  function bars(target) {
    var found = [];
    document.querySelectorAll("#changelist-actions-wrapper, #submit-row, .submit-row, header, [class*='sticky']").forEach(function (el) {
      if (el.contains(target)) return;
      var style = window.getComputedStyle(el);
      if (style.position !== "sticky" && style.position !== "fixed") return;
      if (style.visibility === "hidden" || style.display === "none") return;
      var r = el.getBoundingClientRect();
      if (r.width && r.height) found.push(r);
    });
    return found;
  }

  function keepClear(event) {
    var target = event.target;
    if (!target || !target.getBoundingClientRect) return;
    var r = target.getBoundingClientRect();
    var middle = window.innerHeight / 2;
    bars(target).forEach(function (bar) {
      var overlaps = r.bottom > bar.top && r.top < bar.bottom && r.right > bar.left && r.left < bar.right;
      if (!overlaps) return;
      if (bar.top >= middle) window.scrollBy(0, r.bottom - bar.top + 12);
      else window.scrollBy(0, -(bar.bottom - r.top + 12));
      r = target.getBoundingClientRect();
    });
  }

  // The navigation, opened by its button on a narrow (or zoomed) screen: focus goes to its
  // first link, and the button says it is open.
  function navigationFocus(event) {
    var button = event.target.closest && event.target.closest("[aria-controls=nav-sidebar]");
    if (!button) return;
    window.setTimeout(function () {
      if (button.getAttribute("aria-expanded") !== "true") return;
      var first = document.querySelector("#nav-sidebar #nav-sidebar-apps a[href], #nav-sidebar nav a[href]");
      if (first && first.getClientRects().length) first.focus();
    }, 50);
  }

  // The filters drawer: opened by its button, focus goes into it.
  function filtersFocus(event) {
    navigationFocus(event);
    var button = event.target.closest && event.target.closest("[aria-controls=changelist-filter]");
    if (!button) return;
    window.setTimeout(function () {
      var first = document.querySelector("#changelist-filter select, #changelist-filter input:not([type=hidden]), #changelist-filter a[href], #changelist-filter button");
      if (first && first.getClientRects().length) first.focus();
    }, 50);
  }

  // Unfold's icons are ligatures ("inbox", "dock_to_right"): beside a text they are hidden
  // from screen readers, so a link is read "Trade-ins queue", not "inbox Trade-ins queue".
  function quietIcons() {
    document.querySelectorAll(".material-symbols-outlined").forEach(function (icon) {
      var parent = icon.parentElement;
      var own = icon.textContent.trim();
      if (parent && parent.textContent.replace(own, "").trim()) icon.setAttribute("aria-hidden", "true");
    });
  }

  // Escape closes the open navigation (narrow or zoomed screen) and gives focus back to the
  // button that opened it; Unfold closes the filters drawer on Escape, focus goes back too.
  function escapeCloses(event) {
    if (event.key !== "Escape") return;
    var toggle = Array.prototype.find.call(
      document.querySelectorAll("#header-inner [aria-controls=nav-sidebar], header [aria-controls=nav-sidebar]"),
      function (b) { return b.getAttribute("aria-expanded") === "true" && b.getClientRects().length; });
    if (toggle && window.innerWidth < 1280) {
      toggle.click();
      toggle.focus();
      return;
    }
    var filters = document.querySelector("[aria-controls=changelist-filter]");
    var drawer = document.getElementById("changelist-filter");
    if (filters && drawer && drawer.contains(document.activeElement)) {
      window.setTimeout(function () {
        if (!drawer.getClientRects().length) filters.focus();
      }, 50);
    }
  }

  document.addEventListener("keydown", escapeCloses);
  document.addEventListener("focusin", keepClear);
  document.addEventListener("DOMContentLoaded", quietIcons);
  document.addEventListener("click", filtersFocus);
  window.addEventListener("load", function () {
    announce();
    focusFirstError();
  });
})();
