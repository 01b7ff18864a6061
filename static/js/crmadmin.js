// crmadmin's own script. Pages work without it; it only adds conveniences.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// A form marked submit-once disables its button when sent, so a double click sends once.
// (The server refuses a second submission anyway: this only spares the user the message.)
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.classList.contains("submit-once") || event.defaultPrevented) {
    return;
  }
  for (const button of form.querySelectorAll("[data-submit-once]")) {
    button.disabled = true;
  }
});
