// Countdowns of running auctions (the home page): each [data-countdown-to] shows the time left,
// to the second. Without JavaScript the page shows it to the minute, as rendered.
(function () {
  "use strict";
  var els = document.querySelectorAll("[data-countdown-to]");
  if (!els.length) { return; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var end = Date.parse(el.getAttribute("data-countdown-to"));
      if (isNaN(end)) { continue; }
      var left = Math.max(0, Math.floor((end - Date.now()) / 1000));
      if (left === 0) { el.textContent = el.getAttribute("data-ended"); continue; }
      var d = Math.floor(left / 86400);
      var h = Math.floor((left % 86400) / 3600);
      var m = Math.floor((left % 3600) / 60);
      var s = left % 60;
      el.textContent = (d > 0 ? d + el.getAttribute("data-days") + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    }
  }
  tick();
  setInterval(tick, 1000);
})();
