// A swap never replaces what the person typed. A <form data-keep="key"> that an htmx swap
// replaces with a form of the same key (the desk's call region re-rendered by a poll or an
// action, the notepad becoming the wrap-up of the same call) gets back what the person
// entered, field by field name, and the caret if it was there. Kept in this page's memory
// only, never in browser storage: it may hold personal data the server masks on save.
// A key whose form is gone after a swap (the wrap-up was submitted) is forgotten.
(function () {
  "use strict";
  var typed = {};  // key -> {field name: value, or checked for a check box}
  var caret = null;  // {key, name, start, end} of the focused field before a swap

  function formOf(el) {
    return el && el.closest ? el.closest("form[data-keep]") : null;
  }
  function kept(el) {
    return el.name && !/^(hidden|file|submit|button|reset|image)$/.test(el.type);
  }
  function valueOf(el) {
    if (el.type === "checkbox") return el.checked;
    if (el.type === "radio") return el.checked ? el.value : undefined;
    return el.value;
  }
  function remember(e) {
    var form = formOf(e.target);
    if (!form || !kept(e.target)) return;
    var value = valueOf(e.target);
    if (value === undefined) return;
    (typed[form.dataset.keep] = typed[form.dataset.keep] || {})[e.target.name] = value;
  }
  document.addEventListener("input", remember, true);
  document.addEventListener("change", remember, true);

  function put(el, value) {
    if (el.type === "checkbox") {
      if (el.checked === value) return;
      el.checked = value;
    } else if (el.type === "radio") {
      el.checked = el.value === value;
      return;
    } else if (el.tagName === "SELECT") {
      if (el.value === value) return;
      var option = Array.prototype.find.call(el.options, function (o) { return o.value === value; });
      if (!option) return;  // that choice is no longer offered
      el.value = value;
    } else {
      if (el.value === value) return;
      el.value = value;
      return;
    }
    // Choices have listeners (the disposition sets "resolved on this call").
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function beforeSwap() {
    var el = document.activeElement;
    var form = formOf(el);
    caret = form && kept(el) ? {
      key: form.dataset.keep, name: el.name,
      start: el.selectionStart, end: el.selectionEnd,
    } : null;
  }
  function afterSwap() {
    var present = {};
    document.querySelectorAll("form[data-keep]").forEach(function (form) {
      var key = form.dataset.keep;
      present[key] = true;
      if (form._keptRestored) return;  // already this form's values
      form._keptRestored = true;
      var values = typed[key];
      if (!values) return;
      Array.prototype.forEach.call(form.elements, function (el) {
        if (kept(el) && Object.prototype.hasOwnProperty.call(values, el.name)) put(el, values[el.name]);
      });
      if (caret && caret.key === key && document.activeElement !== form.elements[caret.name]) {
        var field = form.elements[caret.name];
        if (field && field.focus) {
          field.focus();
          if (caret.start != null && field.setSelectionRange) {
            try { field.setSelectionRange(caret.start, caret.end); } catch (err) { /* not text */ }
          }
        }
      }
    });
    Object.keys(typed).forEach(function (key) { if (!present[key]) delete typed[key]; });
  }
  document.addEventListener("htmx:beforeSwap", beforeSwap);
  document.addEventListener("htmx:oobBeforeSwap", beforeSwap);
  document.addEventListener("htmx:afterSwap", afterSwap);
  document.addEventListener("htmx:oobAfterSwap", afterSwap);
  document.addEventListener("DOMContentLoaded", afterSwap);
})();
