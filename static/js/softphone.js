// Browser softphone (Twilio Voice JS SDK, vendored in static/vendor/twilio-voice/).
// The desktop shows the offer; when the agent accepts, Twilio dials client:agent-<id> and this
// page answers that call by itself. In simulated mode nothing is loaded: the simulator plays
// both Twilio and the caller, and the indicator says "simulated".
(function () {
  "use strict";
  var root = document.getElementById("softphone");
  if (!root) return;

  var ACCEPT_WINDOW_MS = 45000; // an accept click expects Twilio's call within this time
  var RETRY_MS = 15000;
  var statusEl = root.querySelector(".softphone-status");
  var detailEl = root.querySelector(".softphone-detail");
  var muteBtn = root.querySelector(".softphone-mute");
  var answerBtn = root.querySelector(".softphone-answer");
  var device = null;
  var activeCall = null;
  var pendingCall = null;
  var expectedUntil = 0;

  function label(name) {
    return root.dataset["label" + name.replace(/(^|-)(\w)/g, function (_, __, c) { return c.toUpperCase(); })] || name;
  }
  function setStatus(status, detail) {
    root.dataset.status = status;
    statusEl.textContent = label(status);
    detailEl.textContent = detail || "";
    muteBtn.hidden = status !== "on-call";
    answerBtn.hidden = !pendingCall;
  }

  var api = {
    mode: root.dataset.mode,
    // Other parts of the desktop (transfers, click-to-call) call this before Twilio rings us.
    expectCall: function () { expectedUntil = Date.now() + ACCEPT_WINDOW_MS; },
    get device() { return device; },
    get call() { return activeCall; },
  };
  window.SangdamSoftphone = api;

  if (root.dataset.mode !== "twilio") {
    return; // simulated: the template already says so, and no SDK is loaded
  }

  function fetchToken() {
    return fetch(root.dataset.tokenUrl, {
      credentials: "same-origin",
      // Background: fetching a token is not the agent's action (callcenter/session_guard.py).
      headers: { Accept: "application/json", "X-Sangdam-Background": "1" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || !body.token) {
          var err = new Error(body.error || "HTTP " + response.status);
          err.status = response.status;
          throw err;
        }
        return body;
      });
    });
  }

  function acceptCall(call) {
    pendingCall = null;
    expectedUntil = 0;
    activeCall = call;
    call.accept();
    setStatus("ringing");
  }

  function watchCall(call) {
    call.on("accept", function () { activeCall = call; setStatus("on-call"); });
    call.on("mute", function (muted) {
      muteBtn.setAttribute("aria-pressed", muted ? "true" : "false");
      muteBtn.textContent = label(muted ? "unmute" : "mute");
    });
    function ended() {
      if (pendingCall === call) pendingCall = null;
      if (activeCall === call) activeCall = null;
      muteBtn.setAttribute("aria-pressed", "false");
      muteBtn.textContent = label("mute");
      setStatus(device && device.state === "registered" ? "registered" : "connecting");
    }
    call.on("disconnect", ended);
    call.on("cancel", ended);
    call.on("reject", ended);
    call.on("error", function (error) {
      setStatus("error", error && error.message);
    });
  }

  function onIncoming(call) {
    watchCall(call);
    if (Date.now() <= expectedUntil && !activeCall) {
      acceptCall(call); // the agent already said yes on the desktop
      return;
    }
    // Not preceded by an accept click (e.g. a lead patched in): the agent answers by hand.
    pendingCall = call;
    setStatus("ringing");
  }

  function start() {
    if (!window.Twilio || !window.Twilio.Device) {
      setStatus("error", "Twilio Voice SDK missing");
      return;
    }
    setStatus("connecting");
    fetchToken().then(function (issued) {
      device = new window.Twilio.Device(issued.token, {
        closeProtection: true,
        codecPreferences: ["opus", "pcmu"],
        logLevel: "warn",
        tokenRefreshMs: 60000, // tokenWillExpire fires a minute before the token runs out
      });
      device.on("registered", function () { if (!activeCall) setStatus("registered"); });
      device.on("unregistered", function () { setStatus("connecting"); });
      device.on("error", function (error) { setStatus("error", error && error.message); });
      device.on("incoming", onIncoming);
      device.on("tokenWillExpire", function () {
        fetchToken().then(function (fresh) { device.updateToken(fresh.token); })
          .catch(function (error) { setStatus("error", error.message); });
      });
      return device.register();
    }).catch(function (error) {
      setStatus("error", error.message);
      // Retrying will not help (401: the session ended; the desktop's poll goes to login).
      if (error.status === 409 || error.status === 403 || error.status === 401) return;
      if (device) { device.destroy(); device = null; } // one Device at a time
      setTimeout(start, RETRY_MS);
    });
  }

  // The accept button (click, or the A key which clicks it) on an offer from this desktop.
  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("#btn-accept");
    if (target) api.expectCall();
  }, true);
  document.addEventListener("submit", function (event) {
    var action = event.target.getAttribute("action") || "";
    if (/\/offers\/\d+\/accept\/$/.test(action)) api.expectCall();
  }, true);

  muteBtn.addEventListener("click", function () {
    if (activeCall) activeCall.mute(!activeCall.isMuted());
  });
  answerBtn.addEventListener("click", function () {
    if (pendingCall) acceptCall(pendingCall);
  });
  window.addEventListener("beforeunload", function () {
    if (device && !activeCall) device.destroy();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
