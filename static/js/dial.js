// Click-to-call on customer and ticket pages: "C" presses the call button.
(function () {
  document.addEventListener("keydown", function (e) {
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) || e.target.isContentEditable) return;
    if (e.ctrlKey || e.altKey || e.metaKey || e.repeat) return;
    // The physical key: with 한글 input on, C types "ㅊ".
    if (e.code !== "KeyC") return;
    const button = document.getElementById("btn-dial");
    if (button && !button.disabled) { e.preventDefault(); button.click(); }
  });
})();
