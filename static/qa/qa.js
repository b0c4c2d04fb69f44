// QA evaluation page: the recording player (play/pause, speed, skip, a seek bar with the
// comments' marks), time-stamped comments that jump to their moment, and keyboard shortcuts.
// The live total and the draft save are htmx (the page stays, so the recording keeps
// playing); the position is also kept per evaluation in sessionStorage, so a page that does
// reload (a save without htmx, a dispute decision) resumes where it was.
(function () {
  "use strict";
  function fmt(t) {
    if (!isFinite(t)) return "0:00";
    t = Math.max(0, Math.floor(t));
    return Math.floor(t / 60) + ":" + String(t % 60).padStart(2, "0");
  }
  function init() {
    var audio = document.getElementById("qa-audio");
    var time = document.getElementById("qa-time");
    var bar = document.getElementById("qa-seekbar");
    var marks = document.getElementById("qa-marks");
    var stampLabel = document.getElementById("comment-at");
    var dragging = false;
    var positionKey = audio ? "qa-position:" + audio.dataset.evaluation : "";
    function now() { return audio ? audio.currentTime : 0; }
    function duration() { return audio && isFinite(audio.duration) ? audio.duration : 0; }
    function tick() {
      if (audio) {
        var label = fmt(audio.currentTime) + " / " + fmt(audio.duration);
        if (time) time.textContent = label;
        if (bar) {
          var d = duration();
          if (String(bar.max) !== String(Math.floor(d))) bar.max = String(Math.floor(d));
          if (!dragging) bar.value = String(audio.currentTime);
          bar.setAttribute("aria-valuetext", label);
          bar.style.setProperty("--played", d ? Math.min(1, audio.currentTime / d) : 0);
        }
      }
      if (stampLabel) stampLabel.textContent = fmt(now());
    }
    function seekTo(t) {
      if (!audio) return;
      var d = duration();
      audio.currentTime = Math.max(0, d ? Math.min(d, t) : t);
      tick();  // the bar follows at once, so an arrow key right after J/L steps from there
    }
    function toggle() { if (!audio) return; if (audio.paused) audio.play(); else audio.pause(); }
    function skip(s) { if (audio) seekTo(audio.currentTime + s); }
    var speeds = [0.75, 1, 1.25, 1.5, 2];
    function setSpeed(r) {
      if (!audio) return;
      audio.playbackRate = r;
      document.querySelectorAll(".player .speed").forEach(function (b) {
        b.setAttribute("aria-pressed", String(parseFloat(b.dataset.rate) === r));
      });
    }
    function stepSpeed(d) {
      var i = speeds.indexOf(audio ? audio.playbackRate : 1);
      setSpeed(speeds[Math.max(0, Math.min(speeds.length - 1, (i < 0 ? 1 : i) + d))]);
    }

    // The marks: one button per comment, at its moment's fraction of the bar; redrawn when
    // the length is known and whenever the comment list is swapped (a comment added).
    var drawn = "";
    function drawMarks() {
      if (!marks) return;
      var d = duration();
      var stamps = document.querySelectorAll("#comment-list a.stamp[data-seek]");
      // Unchanged: keep the buttons (and the keyboard focus on one of them).
      var signature = d + ":" + Array.prototype.map.call(stamps, function (s) { return s.dataset.seek + s.parentNode.textContent; }).join("|");
      if (signature === drawn) return;
      drawn = signature;
      marks.textContent = "";
      if (!d) return;
      stamps.forEach(function (stamp) {
        var at = parseFloat(stamp.dataset.seek);
        if (!isFinite(at) || at < 0 || at > d) return;
        var text = stamp.nextElementSibling ? stamp.nextElementSibling.textContent.trim() : "";
        var mark = document.createElement("button");
        mark.type = "button";
        mark.className = "mark";
        mark.dataset.seek = stamp.dataset.seek;
        mark.style.left = (at / d) * 100 + "%";
        mark.title = stamp.textContent + " " + text;
        mark.setAttribute("aria-label", mark.title);
        marks.appendChild(mark);
      });
    }

    // Where the recording was, per evaluation, for a page that reloads.
    var resumed = false;
    function remember() {
      // Not before the saved place has been read: the load's own events are at 0:00.
      if (!audio || !positionKey || !resumed) return;
      try {
        sessionStorage.setItem(positionKey, JSON.stringify({ at: audio.currentTime, playing: !audio.paused }));
      } catch (err) { /* storage full or disabled: nothing to resume, nothing breaks */ }
    }
    function resume() {
      var saved = null;
      try { saved = JSON.parse(sessionStorage.getItem(positionKey) || "null"); } catch (err) { saved = null; }
      if (!saved || !(saved.at > 0) || saved.at >= duration()) return;
      audio.currentTime = saved.at;
      // The browser may refuse to play without a click on this page: then it waits, paused.
      if (saved.playing) { var p = audio.play(); if (p && p.catch) p.catch(function () {}); }
    }

    if (audio) {
      ["timeupdate", "loadedmetadata", "durationchange", "seeked"].forEach(function (e) { audio.addEventListener(e, tick); });
      ["durationchange", "loadedmetadata"].forEach(function (e) { audio.addEventListener(e, drawMarks); });
      ["timeupdate", "seeked", "pause", "play"].forEach(function (e) { audio.addEventListener(e, remember); });
      window.addEventListener("pagehide", remember);
      audio.addEventListener("loadedmetadata", function () { if (!resumed) { resumed = true; resume(); } });
      if (audio.readyState >= 1) { resumed = true; resume(); }
      var play = document.getElementById("qa-play");
      audio.addEventListener("play", function () { if (play) play.dataset.state = "playing"; });
      audio.addEventListener("pause", function () { if (play) play.dataset.state = "paused"; });
      tick();
      drawMarks();
    }
    if (bar && audio) {
      bar.addEventListener("input", function () { dragging = true; seekTo(parseFloat(bar.value)); tick(); });
      bar.addEventListener("change", function () { dragging = false; seekTo(parseFloat(bar.value)); });
      bar.addEventListener("pointerup", function () { dragging = false; });
      bar.addEventListener("blur", function () { dragging = false; });
    }
    document.body.addEventListener("htmx:afterSettle", function () {
      drawMarks();  // cheap, and the comment list may have been swapped
      // A draft saved with masking: the fields show the masked text that was stored.
      var result = document.getElementById("save-result");
      var form = document.getElementById("score-form");
      if (result && form && result.dataset.masked) {
        var masked = JSON.parse(result.dataset.masked);
        Object.keys(masked).forEach(function (name) {
          var field = form.elements.namedItem(name);
          if (field && "value" in field) field.value = masked[name];
        });
        delete result.dataset.masked;
      }
    });
    document.addEventListener("click", function (e) {
      var t = e.target.closest("[data-player]");
      if (t) {
        e.preventDefault();
        var a = t.dataset.player;
        if (a === "toggle") toggle();
        else if (a === "skip") skip(parseFloat(t.dataset.seconds));
        else if (a === "speed") setSpeed(parseFloat(t.dataset.rate));
        return;
      }
      var s = e.target.closest("[data-seek]");
      if (s && audio) {
        e.preventDefault();
        seekTo(parseFloat(s.dataset.seek));
        audio.play();
      }
    });
    // A comment is stamped with the player's position when it is sent.
    document.body.addEventListener("htmx:configRequest", function (e) {
      if (e.detail.elt && e.detail.elt.id === "comment-form") {
        e.detail.parameters.at_seconds = now().toFixed(1);
      }
    });
    document.body.addEventListener("submit", function (e) {
      if (e.target.id === "comment-form") {
        var input = e.target.querySelector("input[name=at_seconds]");
        if (input) input.value = now().toFixed(1);
      }
    }, true);
    // Keys match the physical key (e.code): with the Korean IME on, K types "ㅏ".
    document.addEventListener("keydown", function (e) {
      var el = document.activeElement;
      // Typing: text fields and drop-downs (letters pick an option there); radios, check
      // boxes and the seek bar are not, so the player keys still work after using them.
      var typing = el && (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
        (el.tagName === "INPUT" && !/^(radio|checkbox|button|submit|reset|range)$/.test(el.type)));
      var form = document.getElementById("score-form");
      // Ctrl+Enter / Ctrl+S act on the score form only: not from the comment or dispute box.
      var elsewhere = typing && form && !form.contains(el);
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && form && !elsewhere) {
        e.preventDefault();
        var submit = form.querySelector("button[value=submit]");
        if (submit) submit.click();
        return;
      }
      if ((e.ctrlKey || e.metaKey) && e.code === "KeyS" && form && !elsewhere) {
        e.preventDefault();
        var draft = form.querySelector("button[value=draft]");
        if (draft) draft.click();
        return;
      }
      if (e.altKey && e.code === "KeyK") { e.preventDefault(); toggle(); return; }
      if (typing || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
      // Physical keys (e.code): with 한글 input on, K types "ㅏ" and J "ㅓ" (e.key).
      switch (e.code) {
        case "KeyK": e.preventDefault(); toggle(); break;
        case "KeyJ": e.preventDefault(); skip(-5); break;
        case "KeyL": e.preventDefault(); skip(5); break;
        case "BracketLeft": e.preventDefault(); stepSpeed(-1); break;
        case "BracketRight": e.preventDefault(); stepSpeed(1); break;
        case "KeyC": {
          var body = document.querySelector("#comment-form input[name=body]");
          if (body) { e.preventDefault(); body.focus(); }
          break;
        }
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
