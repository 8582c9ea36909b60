/* The buyer pages work without this file; it only makes them faster: the next step without a
   full reload, live model filter, instant estimate, inline validation, camera IMEI scanning. */
(function () {
  "use strict";
  var d = document, M = {}, P = {}, form = null, camera = null, scanning = false;

  function $(id) { return d.getElementById(id); }
  function json(id) { var el = $(id); return el ? JSON.parse(el.textContent) : {}; }

  // --- Steps without full reloads: fetch the next page and swap its body in. ------------------
  var latest = 0;
  function go(url, push) {
    var mine = ++latest;
    fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.text();
    }).then(function (html) {
      if (mine !== latest) return;  // a quicker second tap won: show only the newest step
      var doc = new DOMParser().parseFromString(html, "text/html");
      d.title = doc.title;
      d.body.replaceWith(d.adoptNode(doc.body));
      if (push) history.pushState({swap: true}, "", url);
      scrollTo(0, 0);
      var h1 = d.querySelector("h1");
      if (h1) h1.focus({preventScroll: true});
      init();
    }).catch(function () { if (mine === latest) location.href = url; });
  }
  d.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-swap]");
    if (!a || e.button || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    go(a.href, true);
  });
  // Only entries this script made or marked: a #fragment jump is the browser's own business.
  if (!history.state) history.replaceState({swap: true}, "");
  addEventListener("popstate", function (e) {
    if (e.state && e.state.swap) go(location.href, false);
  });

  // --- Model filter ------------------------------------------------------------------------
  function filter() {
    var q = $("q"), shown = 0;
    if (!q) return;
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    d.querySelectorAll("#models li").forEach(function (li) {
      var name = li.querySelector(".tile").textContent.toLowerCase();
      li.hidden = !words.every(function (w) { return name.indexOf(w) >= 0; });
      if (!li.hidden) shown++;
    });
    $("no-match").hidden = shown > 0;
  }
  d.addEventListener("submit", function (e) {
    if (!e.target.matches(".filter")) return;
    e.preventDefault();  // the list already shows the matches; Enter opens the only one
    var only = d.querySelectorAll("#models li:not([hidden]) .tile");
    if (only.length === 1) go(only[0].href, true);
  });

  // --- The trade-in form ---------------------------------------------------------------------
  function value(name) {
    var el = form.elements[name];
    return el ? el.value.trim() : "";
  }
  function shipping() { return value("fulfilment") !== "pickup"; }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var n = +digits[digits.length - 1 - i];
      if (i % 2) { n *= 2; if (n > 9) n -= 9; }
      sum += n;
    }
    return sum % 10 === 0;
  }
  function checkDigit(digits14) {
    for (var d = 0; d < 10; d++) if (luhn(digits14 + d)) return String(d);
    return "";
  }
  // The first code point of each script's digits 0-9 (Arabic-Indic, Extended Arabic-Indic,
  // NKo, Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam,
  // Sinhala, Thai, Lao, Tibetan, Myanmar, Khmer, Mongolian); NFKC reads full-width ones.
  var ZEROS = [0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6,
    0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x17E0, 0x1810];
  function asciiDigit(ch) {
    var code = ch.charCodeAt(0);
    for (var i = 0; i < ZEROS.length; i++) {
      if (code >= ZEROS[i] && code <= ZEROS[i] + 9) return String(code - ZEROS[i]);
    }
    return ch;
  }
  // The same rules as workflows.actions.normalize_imei: what buyers copy from a phone or its
  // box, as {imei, problem}. IMEI/SVN "356303485329443/01", the 16-digit IMEISV and the 14
  // digits without check digit give the 15-digit IMEI; an MEID is named as such.
  function imeiCompact(text) {
    var t = String(text).normalize ? String(text).normalize("NFKC") : String(text);
    t = t.trim().replace(/^imei\s*(sv)?\s*(no\.?|number)?\s*[:#]?\s*/i, "");
    var compact = "";
    for (var i = 0; i < t.length; i++) {
      var ch = t[i];
      if (/[ \-.\u2010-\u2015\u2212]/.test(ch)) continue;
      compact += asciiDigit(ch);
    }
    return compact;
  }
  function normalImei(text) {
    var compact = imeiCompact(text);
    var svn = /^(\d{15})\/\d{2}$/.exec(compact);
    if (svn) compact = svn[1];
    if ((/^[0-9A-Fa-f]{14}$/.test(compact) && /[A-Fa-f]/.test(compact)) || /^\d{18}$/.test(compact)) {
      return {imei: "", problem: M.imeiMeid};
    }
    if (!/^\d+$/.test(compact)) return {imei: "", problem: M.imeiDigits};
    if (compact.length === 14 || compact.length === 16) {
      compact = compact.slice(0, 14) + checkDigit(compact.slice(0, 14));
    }
    if (compact.length !== 15) return {imei: "", problem: M.imeiLength};
    return luhn(compact) ? {imei: compact, problem: ""} : {imei: "", problem: M.imeiCheck};
  }
  function imeiProblem(text) { return normalImei(text).problem; }

  // The same rules as the server, so most mistakes are caught before a round trip.
  function problem(name) {
    var v = value(name), el = form.elements[name];
    if (!v) {
      if (M.required[name]) return M.required[name];
      if (name === "region" && shipping() && us()) return M.state;
      return shipping() && ["address_line1", "city", "postcode"].indexOf(name) >= 0 ? M.address : "";
    }
    if (name === "imei") return imeiProblem(v);
    if (name === "postcode" && us() && !/^\d{5}(-?\d{4})?$/.test(v)) return M.zipShape;
    if (name === "buyer_email" && !/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(v)) return M.email;
    if (el.maxLength > 0 && v.length > el.maxLength) return M.tooLong;
    return "";
  }

  function show(name, message) {
    var box = $("f-" + name), id = "id_" + name + "_error";
    if (!box) return;
    var err = $(id);
    if (message && !err) {
      err = d.createElement("p");
      err.className = "error";
      err.id = id;
      var help = $("id_" + name + "_helptext"), legend = box.querySelector("legend");
      var after = help || legend || box.querySelector("label");
      after.after(err);
    }
    if (err) { err.textContent = message; err.hidden = !message; }
    box.classList.toggle("has-error", !!message);
    var target = box.querySelector("fieldset") || form.elements[name];
    var ids = (target.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== id;
    });
    if (message) ids.push(id);
    if (ids.length) target.setAttribute("aria-describedby", ids.join(" "));
    else target.removeAttribute("aria-describedby");
    if (target.tagName === "INPUT") {
      if (message) target.setAttribute("aria-invalid", "true");
      else target.removeAttribute("aria-invalid");
    }
    if (!form.querySelector(".has-error")) $("form-errors").textContent = "";
  }

  function checked() {
    var names = Object.keys(M.required);
    if (shipping()) names = names.concat(["postcode", "address_line1", "city", "region"]);
    return names.concat(["address_line2", "buyer_phone"]);
  }

  function estimate() {
    var box = $("estimate"), base = P.products[value("product")], off = 0;
    var answers = ["screen", "body", "battery", "accessories"].map(value);
    if (!base || answers.indexOf("") >= 0 || !+base) { box.hidden = true; return; }
    ["screen", "body", "battery", "accessories"].forEach(function (q, i) {
      off += Math.round(parseFloat(P.deductions[q + ":" + answers[i]] || 0) * 100);
    });
    // Whole units rounded down, in integer arithmetic, exactly as the server's suggested offer.
    var cents = Math.round(parseFloat(base) * 100);
    var amount = Math.floor(cents * (10000 - Math.min(off, 10000)) / 1000000);
    box.textContent = M.estimate.replace("%(amount)s", M.currency + amount.toLocaleString("en-US", {minimumFractionDigits: 2}));
    box.hidden = false;
  }

  function us() { return (value("country") || "US") === "US"; }

  // A local ZIP never switches "ship it" to drop-off by itself: it asks (the server asks too).
  function nearShop() {
    var box = $("f-ship_anyway");
    if (!box) return;
    var local = shipping() && (M.localZips || []).indexOf(value("postcode").slice(0, 5)) >= 0;
    box.hidden = !local;
  }

  // ZIP first: the city and state come from the server's offline ZIP table. Only fields the
  // buyer left empty (or that we filled before) are filled, never over what they typed.
  var zipAsked = "";
  function fillFromZip() {
    var zip = value("postcode").slice(0, 5);
    if (!us() || !/^\d{5}$/.test(zip) || zip === zipAsked) return;
    zipAsked = zip;
    fetch(form.dataset.zipUrl + "?zip=" + zip, {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (found) {
      if (!found || zip !== value("postcode").slice(0, 5)) return;
      [["city", found.city], ["region", found.state]].forEach(function (pair) {
        var el = form.elements[pair[0]];
        if (!el.value || el.dataset.auto === "1") {
          el.value = pair[1];
          el.dataset.auto = "1";
          show(pair[0], "");
        }
      });
    }).catch(function () { zipAsked = ""; });
  }

  function refresh() {
    $("address").hidden = !shipping();
    nearShop();
    estimate();
  }

  d.addEventListener("change", function (e) {
    if (!form || !form.contains(e.target)) return;
    if (e.target.type === "radio") show(e.target.name, "");
    refresh();
  });
  // An order's offers: choosing Decline opens that device's "Tell us why" (a reason is
  // required; closed, the buyer only learnt so from the error after sending).
  d.addEventListener("change", function (e) {
    var el = e.target;
    if (el.type !== "radio" || el.value !== "decline" || !el.checked) return;
    var device = el.closest(".device-offer");
    var why = device && device.querySelector("details.decline");
    if (why) why.open = true;
  });
  d.addEventListener("focusout", function (e) {
    var el = e.target;
    if (!form || !form.contains(el) || el.type === "radio" || !el.name || el.type === "hidden") return;
    // Judge a field once the buyer has typed and left it, or when it already shows an error.
    if (el.value || $("id_" + el.name + "_error")) show(el.name, problem(el.name));
  });
  d.addEventListener("click", function (e) {
    if (!form || e.target.id !== "drop-off-instead") return;
    var pickup = form.querySelector("input[name=fulfilment][value=pickup]");
    pickup.checked = true;
    refresh();
    pickup.focus();
  });
  d.addEventListener("input", function (e) {
    if (e.target.id === "q") filter();
    if (e.target.id === "id_postcode") { nearShop(); fillFromZip(); }
    if (e.target.id === "id_city" || e.target.id === "id_region") delete e.target.dataset.auto;
    if (e.target.id !== "id_imei") return;
    var text = e.target.value, note = $("scan-note");
    // Judge it as the buyer types once it could be whole (14 digits and up) or has a letter.
    var compact = imeiCompact(text);
    if (compact.length >= 14 || /[^0-9\/]/.test(compact)) {
      var bad = imeiProblem(text);
      show("imei", bad);
      note.className = "note";
      note.textContent = bad ? "" : M.imeiOk;
    } else {
      note.textContent = "";
    }
  });
  // "Add another device" needs only this device's answers: the buyer's come on the last one.
  var DEVICE = ["product", "screen", "body", "battery", "accessories", "imei"];
  d.addEventListener("submit", function (e) {
    if (e.target !== form) return;
    var bad = false, adding = e.submitter && e.submitter.name === "add_device";
    checked().filter(function (name) {
      return !adding || DEVICE.indexOf(name) >= 0;
    }).forEach(function (name) {
      var message = problem(name);
      show(name, message);
      bad = bad || !!message;
    });
    if (bad) {
      e.preventDefault();
      $("form-errors").innerHTML = '<div class="alert"><strong></strong></div>';
      $("form-errors").querySelector("strong").textContent = M.summary;
      form.querySelector(".has-error input, .has-error textarea").focus();
      return;
    }
    // One tap, one trade-in: the server also ignores a repeated submission key.
    var button = $("submit");
    setTimeout(function () { button.disabled = true; }, 0);
  });
  addEventListener("pageshow", function () { if ($("submit")) $("submit").disabled = false; });

  // --- Camera IMEI scanning ----------------------------------------------------------------
  var FORMATS = ["code_128", "qr_code", "data_matrix"], UNAVAILABLE = new Error("unavailable");

  function detector() {
    var native = window.BarcodeDetector;
    var ready = native ? native.getSupportedFormats() : Promise.resolve([]);
    return ready.then(function (supported) {
      if (supported.indexOf("code_128") >= 0) {
        return new native({formats: FORMATS.filter(function (f) { return supported.indexOf(f) >= 0; })});
      }
      // Only now, on tap, fetch the polyfill and its wasm, both from our own static files.
      var button = $("scan");
      if (!button.dataset.module) throw UNAVAILABLE;  // never built (no npm at deploy)
      return import(button.dataset.module).then(function (mod) {
        mod.prepareZXingModule({overrides: {locateFile: function (path, prefix) {
          return path.slice(-5) === ".wasm" ? button.dataset.wasm : prefix + path;
        }}});
        return new mod.BarcodeDetector({formats: FORMATS});
      });
    });
  }

  // A barcode's text: the IMEI by itself (any form normalImei reads), or within a longer
  // text (a box label's QR code), as a run of 15 digits, an IMEI/SVN or a 16-digit IMEISV.
  function imeiIn(text) {
    var whole = normalImei(text);
    if (whole.imei) return whole.imei;
    var runs = String(text).match(/\d{15}\/\d{2}|\d+/g) || [];
    for (var i = 0; i < runs.length; i++) {
      var n = runs[i].replace(/\/\d{2}$/, "").length;
      if (n !== 15 && n !== 16) continue;
      var found = normalImei(runs[i]);
      if (found.imei) return found.imei;
    }
    return "";
  }

  function tell(message, bad) {
    var note = $("scan-note");
    note.className = bad ? "note bad" : "note";
    note.textContent = message;
  }

  function stopScan() {
    scanning = false;
    if (!camera) return;
    camera.stream.getTracks().forEach(function (t) { t.stop(); });
    camera.video.srcObject = null;
    if (camera.dialog.open) camera.dialog.close();
    camera = null;
  }

  function manual(message) {
    stopScan();
    tell(message, true);
    $("id_imei").focus();
  }

  function startScan() {
    if (scanning) return;  // a second tap while the camera starts
    if (!window.isSecureContext) return manual(M.scan.insecure);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return manual(M.scan.unsupported);
    var unavailable = $("scan").dataset.unavailable;
    if (unavailable && !window.BarcodeDetector) return manual(unavailable);
    scanning = true;
    tell("");
    var found = detector();
    found.catch(function () {});  // reported below, once the camera question is answered
    navigator.mediaDevices.getUserMedia({audio: false, video: {
      facingMode: {ideal: "environment"}, width: {ideal: 1280}, height: {ideal: 720}}
    }).then(function (stream) {
      if (!scanning) {  // the buyer left the page meanwhile: the camera goes off at once
        stream.getTracks().forEach(function (t) { t.stop(); });
        return;
      }
      var dialog = $("scanner"), video = dialog.querySelector("video");
      var session = camera = {stream: stream, video: video, dialog: dialog};
      video.srcObject = stream;
      dialog.showModal();
      $("scan-status").textContent = M.scan.looking;
      return Promise.all([found, video.play()]).then(function (r) { look(r[0], session); });
    }, function (err) {
      var name = err && err.name;
      manual(name === "NotAllowedError" || name === "SecurityError" ? M.scan.denied
        : name === "NotFoundError" || name === "OverconstrainedError" ? M.scan.nocamera
        : M.scan.failed);
    }).catch(function (err) {
      if (scanning) manual(err === UNAVAILABLE ? $("scan").dataset.unavailable : M.scan.failed);
    });
  }

  function look(reader, session) {
    if (camera !== session) return;  // closed or restarted meanwhile
    reader.detect(session.video).then(function (codes) {
      if (camera !== session) return;
      for (var i = 0; i < codes.length; i++) {
        var imei = imeiIn(codes[i].rawValue);
        if (imei) {
          $("id_imei").value = imei;
          stopScan();
          show("imei", "");
          tell(M.scan.found);
          return;
        }
      }
      if (codes.length) $("scan-status").textContent = M.scan.notImei;
      setTimeout(function () { look(reader, session); }, 100);
    }, function () {
      setTimeout(function () { look(reader, session); }, 250);
    });
  }

  d.addEventListener("click", function (e) {
    if (e.target.closest("#scan")) startScan();
    if (e.target.closest("#scan-cancel")) { stopScan(); $("id_imei").focus(); }
  });
  d.addEventListener("close", function (e) { if (e.target.id === "scanner") stopScan(); }, true);
  d.addEventListener("visibilitychange", function () { if (d.hidden) stopScan(); });

  // --- Per page ----------------------------------------------------------------------------
  function init() {
    stopScan();
    form = $("tradein");
    filter();
    if (!form) return;
    M = json("msgs");
    P = json("prices");
    $("scan").hidden = false;
    refresh();
  }
  init();
})();
