// Print buttons (a script file: the pages' CSP forbids inline handlers). Any button with data-print.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
