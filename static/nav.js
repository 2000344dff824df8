// The main menu's groups are <details> dropdowns and work without this
// script (their shared name already lets only one be open). It adds what
// people expect of a dropdown: Escape closes the open one (focus back on
// its button), and a click or the keyboard focus moving elsewhere closes it.
(() => {
  const groups = Array.from(document.querySelectorAll(".mainnav details"));
  if (!groups.length) return;
  const closeOthers = (target) => {
    for (const group of groups) if (group.open && !group.contains(target)) group.open = false;
  };
  document.addEventListener("click", (event) => closeOthers(event.target));
  document.addEventListener("focusin", (event) => closeOthers(event.target));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const open = groups.find((group) => group.open);
    if (!open) return;
    const hadFocus = open.contains(document.activeElement);
    open.open = false;
    if (hadFocus) open.querySelector("summary").focus();
  });
})();
