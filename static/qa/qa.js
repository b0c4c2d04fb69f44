// QA evaluation page: the recording player (play/pause, speed, skip), time-stamped comments
// that jump to their moment, and keyboard shortcuts. The live total is htmx (server formula).
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
    var stampLabel = document.getElementById("comment-at");
    function now() { return audio ? audio.currentTime : 0; }
    function tick() {
      if (time && audio) time.textContent = fmt(audio.currentTime) + " / " + fmt(audio.duration);
      if (stampLabel) stampLabel.textContent = fmt(now());
    }
    function toggle() { if (!audio) return; if (audio.paused) audio.play(); else audio.pause(); }
    function skip(s) { if (audio) audio.currentTime = Math.max(0, Math.min((audio.duration || 1e9), audio.currentTime + s)); }
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
    if (audio) {
      ["timeupdate", "loadedmetadata", "durationchange", "seeked"].forEach(function (e) { audio.addEventListener(e, tick); });
      var play = document.getElementById("qa-play");
      audio.addEventListener("play", function () { if (play) play.dataset.state = "playing"; });
      audio.addEventListener("pause", function () { if (play) play.dataset.state = "paused"; });
      tick();
    }
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
        audio.currentTime = parseFloat(s.dataset.seek);
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
    document.addEventListener("keydown", function (e) {
      var el = document.activeElement;
      // Typing: text fields and drop-downs (letters pick an option there); radios and
      // check boxes are not, so the player keys still work after answering a criterion.
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
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
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
