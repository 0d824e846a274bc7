// Tabs (WAI-ARIA tab pattern): one tablist, each tab showing its own panel; arrow keys move
// between tabs, Home/End to the ends, and only the selected tab is in the Tab order.

/** tablist: the [role=tablist] element; each tab's aria-controls names its panel. Returns
 * {select(id)} (the id of a tab). */
export function createTabs(tablist) {
  const tabs = [...tablist.querySelectorAll("[role=tab]")];
  function select(id) {
    for (const tab of tabs) {
      const on = tab.id === id;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    }
  }
  tabs.forEach((tab) => {
    tab.addEventListener("click", () => select(tab.id));
    tab.addEventListener("keydown", (e) => {
      const shown = tabs.filter((t) => !t.hidden), at = shown.indexOf(tab); // a hidden tab is skipped
      const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: shown.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      const next = shown[(to + shown.length) % shown.length];
      select(next.id);
      next.focus();
    });
  });
  return { select };
}

/** Show or hide a tab; a hidden tab cannot stay selected: the list's first tab is then selected. */
export function showTab(tab, on) {
  tab.hidden = !on;
  if (!on && tab.getAttribute("aria-selected") === "true") tab.parentElement.querySelector("[role=tab]").click();
}
