// ejournal's own script: the little a page needs beyond htmx, with no inline handlers (the
// Content-Security-Policy allows only scripts from this site). Pages work without it.
"use strict";
document.addEventListener("change", (event) => {
  // A <select data-navigate> (the child switcher, a period) goes to the page it names.
  const select = event.target.closest("select[data-navigate]");
  if (select && select.value) {
    window.location.assign(select.value);
  }
});
