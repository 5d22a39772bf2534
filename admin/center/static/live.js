// Live meetings: keeps the page's live region current without a reload.
// The server sends the region rendered anew when the meeting changes
// (server-sent events, see admin/center/live_events.go); without script the
// page still works, a reload shows the news. Waits are counted here, every
// second, from each row's data-since.
(function () {
  "use strict";
  var region = document.getElementById("live-region");
  if (!region) {
    return;
  }

  function waited(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    if (s < 60) {
      return s + " s";
    }
    if (s < 3600) {
      return Math.floor(s / 60) + " min " + two(s % 60) + " s";
    }
    return Math.floor(s / 3600) + " h " + two(Math.floor(s % 3600 / 60)) + " min";
  }

  function tick() {
    var now = Date.now();
    var spans = region.querySelectorAll("[data-since]");
    for (var i = 0; i < spans.length; i++) {
      var since = Date.parse(spans[i].getAttribute("data-since"));
      if (!isNaN(since)) {
        spans[i].textContent = waited(now - since);
      }
    }
  }
  window.setInterval(tick, 1000);

  if (!window.EventSource) {
    return;
  }
  var events = new EventSource(region.getAttribute("data-events"));
  events.addEventListener("state", function (e) {
    // Keep the keyboard where it was: the control with the same id.
    var focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : "";
    region.innerHTML = e.data;
    if (focused) {
      var again = document.getElementById(focused);
      if (again) {
        again.focus();
      }
    }
    tick();
    region.setAttribute("data-updated", String(Date.now()));
  });
  events.addEventListener("signedout", function () {
    events.close();
    window.location.assign("/admin/signin");
  });
  events.addEventListener("gone", function () {
    events.close();
    window.location.reload(); // the page says what became of the meeting
  });
})();
