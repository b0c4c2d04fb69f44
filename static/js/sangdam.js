// Every page's small behaviours, kept out of the templates: the Content-Security-Policy
// allows no inline script and no on* handler (docs/security.md, "Production headers").
(function () {
  "use strict";

  // A request no user event triggered (htmx polls `every …`, `load`) is background: it must
  // not extend the session (callcenter/session_guard.py). When the session has ended, the
  // server answers htmx with HX-Redirect to the login page.
  document.addEventListener("htmx:configRequest", function (e) {
    if (!e.detail.triggeringEvent) e.detail.headers["X-Sangdam-Background"] = "1";
  });

  // <select data-autosubmit>: choosing an option submits its form (the language switch).
  document.addEventListener("change", function (e) {
    var select = e.target.closest && e.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  document.addEventListener("click", function (e) {
    if (!e.target.closest) return;
    // <button data-print>: print the page.
    if (e.target.closest("[data-print]")) { window.print(); return; }
    // <a data-history-back>: back to the previous page (the href is the fallback).
    var back = e.target.closest("a[data-history-back]");
    if (back && window.history.length > 1) { e.preventDefault(); window.history.back(); return; }
    // <button data-confirm="question">: ask before it submits.
    var ask = e.target.closest("[data-confirm]");
    if (ask && !window.confirm(ask.dataset.confirm)) e.preventDefault();
  });
})();
