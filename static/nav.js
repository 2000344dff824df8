// The main menu's groups are <details> dropdowns and work without this
// script (their shared name already lets only one be open). It adds what
// people expect of a dropdown: Escape closes the open one (focus back on
// its button), a click or the keyboard focus moving elsewhere closes it. When
// the menu wraps onto several rows, a list opens below the last row (it hides
// no other group's button); one that would stick out past the window's right
// edge opens leftwards. (Phones: the stylesheet spans it under the menu.)
(() => {
  const groups = Array.from(document.querySelectorAll(".mainnav details"));
  if (!groups.length) return;
  const entries = Array.from(document.querySelectorAll(".mainnav > ul > li"));
  for (const group of groups) {
    group.addEventListener("toggle", () => {
      const list = group.querySelector("ul");
      const item = group.parentElement;
      list.classList.remove("leftwards");
      list.style.top = "";
      if (!group.open) return;
      if (getComputedStyle(item).position === "relative") {
        const bottom = Math.max(...entries.map((entry) => entry.getBoundingClientRect().bottom));
        const below = bottom - item.getBoundingClientRect().bottom;
        if (below > 1) list.style.top = `calc(100% + ${below}px + .3rem)`;
      }
      if (list.getBoundingClientRect().right > document.documentElement.clientWidth) list.classList.add("leftwards");
    });
  }
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
