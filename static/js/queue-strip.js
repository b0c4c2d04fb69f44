// Queue strip (kpi/_queue_strip.html): each queue's longest current wait ticks every second
// from the start the server gave, and turns amber at half the queue's threshold T and red at T
// (the wallboard's colours). The strip itself is polled by htmx.
(function () {
  "use strict";
  function mmss(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll(".queue-strip .qs-wait").forEach(function (el) {
      const value = el.querySelector("[data-waiting-since]");
      if (!value) return;
      const since = Date.parse(value.dataset.waitingSince);
      if (isNaN(since)) return;
      const wait = (now - since) / 1000, t = Number(el.dataset.t) || 20;
      value.textContent = mmss(wait);
      el.classList.remove("lvl-ok", "lvl-warn", "lvl-bad", "lvl-none");
      el.classList.add(wait < t / 2 ? "lvl-ok" : wait < t ? "lvl-warn" : "lvl-bad");
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
