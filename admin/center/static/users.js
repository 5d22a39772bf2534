// The one-time PIN page (user_pin.html). Cache-Control: no-store does not
// keep a browser's back-forward cache from restoring the page as it was,
// with the PIN: so the PIN is wiped from the page when it is left, and a
// page restored from that cache is loaded again, when the server says the
// PIN was shown already.
"use strict";
window.addEventListener("pagehide", function () {
  document.querySelectorAll(".secret").forEach(function (e) { e.textContent = ""; });
});
window.addEventListener("pageshow", function (ev) {
  if (ev.persisted) { window.location.reload(); }
});
