// Wallboard: the clock and every "longest wait" tick each second between polls, measured
// against the server's clock (data-now on the tile grid) so a TV with a wrong clock is right.
(function () {
  "use strict";
  let offset = 0; // server time - local time, ms

  function syncClock() {
    const grid = document.getElementById("wb-tiles");
    if (grid && grid.dataset.now) offset = Number(grid.dataset.now) - Date.now();
  }

  function mmss(seconds) {
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function tick() {
    const now = Date.now() + offset;
    const clock = document.getElementById("wb-clock");
    if (clock) {
      clock.textContent = new Intl.DateTimeFormat("en-GB", {
        hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
        timeZone: clock.dataset.tz || undefined,
      }).format(new Date(now));
    }
    document.querySelectorAll(".m-wait[data-since]").forEach(function (el) {
      const wait = (now - Number(el.dataset.since)) / 1000;
      const t = Number(el.dataset.t) || 20;
      el.querySelector("[data-k=longest]").textContent = mmss(wait);
      const level = wait < t / 2 ? "ok" : wait < t ? "warn" : "bad";
      el.classList.remove("lvl-ok", "lvl-warn", "lvl-bad", "lvl-none");
      el.classList.add("lvl-" + level);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { syncClock(); tick(); });
  document.addEventListener("htmx:afterSwap", function () { syncClock(); tick(); });
  setInterval(tick, 1000);
})();
