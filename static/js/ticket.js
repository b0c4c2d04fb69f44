// Ticket page: "Reply" on a note threads the next note under it; Ctrl+Enter adds the note.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-reply-parent]");
    if (!btn) return;
    document.getElementById("id_parent").value = btn.dataset.replyParent;
    document.getElementById("reply-to").textContent = btn.dataset.replyLabel;
    document.getElementById("id_body").focus();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.closest("#note-form")) {
      e.preventDefault();
      document.getElementById("btn-note").click();
    }
  });
})();
