// After a refused form: focus the first marked field (the browser scrolls it into view).
(function () {
  var first = document.querySelector(
    ".has-error input:not([type=hidden]), .has-error select, .has-error textarea, [aria-invalid=true]");
  if (first) first.focus();
})();
