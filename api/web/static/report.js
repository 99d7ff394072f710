// The micro-report's print button (a script file: the page's CSP forbids inline handlers).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("print-report");
  if (button) button.addEventListener("click", () => window.print());
});
