// Agent desktop: ticking timers and keyboard shortcuts. Server state arrives via htmx.
(function () {
  // mm:ss under an hour, h:mm:ss under a day, then days and hours (e.g. "3d 4h"): a state
  // held since last month must still read at a glance.
  const DAY_UNIT = document.documentElement.lang === "ko" ? ["일", "시간"] : ["d", "h"];
  function fmt(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
    const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    const pad = function (n) { return String(n).padStart(2, "0"); };
    if (d > 0) return d + DAY_UNIT[0] + " " + h + DAY_UNIT[1];
    if (seconds >= 3600) return Math.floor(seconds / 3600) + ":" + pad(m) + ":" + pad(s);
    return pad(m) + ":" + pad(s);
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-since]").forEach(function (el) {
      const t = Date.parse(el.dataset.since);
      if (!isNaN(t)) el.textContent = fmt((now - t) / 1000);
    });
    document.querySelectorAll("[data-until]").forEach(function (el) {
      const t = Date.parse(el.dataset.until);
      if (!isNaN(t)) el.textContent = fmt((t - now) / 1000);
    });
  }
  setInterval(tick, 500);
  // A poll with data-pause-while="selector" skips its turn while something inside matches
  // (the team board's inbox: PII findings shown, a note being typed). Not an hx-trigger
  // filter: those are evaluated as code, which the Content-Security-Policy forbids.
  document.addEventListener("htmx:confirm", function (e) {
    const elt = e.detail.elt;
    const pause = elt && !e.detail.triggeringEvent && elt.dataset && elt.dataset.pauseWhile;
    if (pause && elt.querySelector(pause)) e.preventDefault();
  });
  document.addEventListener("htmx:afterSwap", tick);
  // A poll that was on its way while an action re-rendered the desk answers for the state
  // before it: its poller is gone from the page, so its regions are dropped.
  document.addEventListener("htmx:beforeSwap", function (e) {
    const elt = e.detail.elt;
    if (elt && elt.id === "desk-poll" && !document.body.contains(elt)) e.detail.shouldSwap = false;
  });
  // A poll swaps only the regions that changed; the desk's state rides on its poller.
  document.addEventListener("htmx:afterSwap", function () {
    const poll = document.getElementById("desk-poll");
    const panel = document.getElementById("desk-panel");
    if (poll && panel && panel.dataset.state !== poll.dataset.state) panel.dataset.state = poll.dataset.state;
  });
  document.addEventListener("DOMContentLoaded", tick);

  function click(id) {
    const el = document.getElementById(id);
    if (el) { el.click(); return true; }
    return false;
  }
  // Canned responses: a click puts the text into the wrap-up note at the cursor.
  document.addEventListener("click", function (e) {
    const btn = e.target.closest("[data-canned]");
    if (!btn) return;
    const note = document.querySelector("#wrapup-form textarea[name=note]");
    if (!note) return;
    const at = note.selectionStart || note.value.length;
    note.value = note.value.slice(0, at) + btn.dataset.canned + note.value.slice(at);
    note.dispatchEvent(new Event("input", { bubbles: true }));  // typed, as far as keeping goes
    note.focus();
  });
  // Wrap-up: "resolved on this call" follows the disposition for a new ticket and starts
  // unticked on an existing ticket; the agent can still change it.
  document.addEventListener("change", function (e) {
    const form = e.target.closest("#wrapup-form");
    if (!form || !/^(disposition|ticket)$/.test(e.target.name)) return;
    const box = form.querySelector("input[name=resolve]");
    const disposition = form.querySelector("select[name=disposition]");
    if (!box || !disposition) return;
    const ticket = form.querySelector("select[name=ticket]");
    const chosen = disposition.selectedOptions[0];
    box.checked = !(ticket && ticket.value) && !!chosen && chosen.dataset.resolves === "1";
  });
  document.addEventListener("keydown", function (e) {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) || e.target.isContentEditable;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      // Finishes wrap-up from the wrap-up form (or with nothing focused), never from
      // another box being typed in (the escalation reason, the customer search).
      if (typing && !e.target.closest("#wrapup-form")) return;
      if (click("btn-wrapup")) e.preventDefault();
      return;
    }
    if (e.key === "F2") { if (click("btn-available")) e.preventDefault(); return; }
    if (e.key === "F3") { if (click("btn-not-ready")) e.preventDefault(); return; }
    if (typing || e.ctrlKey || e.altKey || e.metaKey) return;
    // Letters by the physical key (e.code): with 한글 input on, A types "ㅁ" (e.key).
    if (e.code === "KeyA") { if (click("btn-accept")) e.preventDefault(); }
    if (e.code === "KeyH") { if (click("btn-hangup")) e.preventDefault(); }
    // On-call bridging: P hold/resume, T transfer (focus the target), E escalate to 실장.
    if (e.code === "KeyP") { if (click("btn-hold")) e.preventDefault(); }
    if (e.code === "KeyE") { if (click("btn-escalate")) e.preventDefault(); }
    // "/" finds a customer for an unknown caller; N jumps to the call notes or wrap-up note.
    if (e.code === "Slash") {
      const search = document.querySelector("#link-customer input[type=search]");
      if (search) { search.focus(); e.preventDefault(); }
    }
    if (e.code === "KeyN") {
      const note = document.querySelector("#wrapup-form textarea[name=note], #notepad-form textarea[name=note]");
      if (note) { note.focus(); e.preventDefault(); }
    }
    if (e.code === "KeyT") {
      const target = document.getElementById("transfer-agent");
      if (target) { target.focus(); e.preventDefault(); }
    }
  });
})();
