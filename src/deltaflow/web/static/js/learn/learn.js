// Learn mode: the text's sections as chapters beside the simulator. Each chapter renders its
// own explanation, widget and "Try this" challenge; the numbers come from the engine through
// the `lesson` message, or from the live session's frames. `#learn=<id>` opens a chapter.
import { showError } from "../notices.js";
import { clear, el } from "../util.js";
import { CHAPTERS } from "./chapters.js";
import { createLessons } from "./lessons.js";
import { markDone, readProgress } from "./progress.js";

/** The chapter id in the URL's `#learn=<id>`, or null. */
export function chapterInHash() {
  const m = /^#learn=([a-z0-9_-]+)$/.exec(location.hash);
  return m ? m[1] : null;
}

/**
 * createLearn({ root, toggle, send, hello, openSimulator, onLeave }) → the Learn view.
 * `hello()` gives the server's hello; `openSimulator(config, grid, pauseAt)` loads a run in the
 * simulator; `onLeave()` runs when the learner goes back to the simulator.
 */
export function createLearn({ root, toggle, send, hello, openSimulator, onLeave }) {
  const lessons = createLessons(send);
  const hooks = { frame: new Set(), state: new Set() };
  const list = el("ol", { class: "chapter-links" });
  const article = el("article", { class: "chapter", "aria-live": "polite" });
  root.append(el("nav", { class: "learn-nav", "data-testid": "chapter-list", "aria-label": "Chapters" },
    el("h2", { text: "Learn" }), el("p", { class: "learn-intro", text: "The text's sections, one live lesson each. Every number is computed by the engine." }), list),
    article);
  let open = null; // the chapter shown

  function drawList() {
    const progress = readProgress();
    clear(list);
    CHAPTERS.forEach((c, i) => {
      const done = Boolean(progress[c.id]?.done);
      list.append(el("li", {}, el("a", {
        href: `#learn=${c.id}`, "data-testid": `chapter-link-${c.id}`, "data-done": String(done),
        "aria-current": open === c ? "page" : "false",
      }, el("span", { class: "chapter-no", text: `${i + 1}` }), el("span", { class: "chapter-title", text: c.title }),
      el("span", { class: "chapter-tick", text: done ? "✓" : "", "aria-label": done ? "completed" : "" }))));
    });
  }

  function context(chapter) {
    return {
      hello: hello(),
      lesson: (request) => lessons.ask(chapter.id, request),
      openSimulator(config, grid = null, pauseAt = null) {
        leave();
        openSimulator(config, grid, pauseAt);
      },
      complete(summary) {
        markDone(chapter.id, summary);
        drawList();
      },
      progress: () => readProgress()[chapter.id] || null,
      onFrame: (cb) => hooks.frame.add(cb),
      onState: (cb) => hooks.state.add(cb),
    };
  }

  function show(id) {
    const chapter = CHAPTERS.find((c) => c.id === id) || firstUndone();
    hooks.frame.clear();
    hooks.state.clear();
    open = chapter;
    clear(article);
    article.dataset.testid = `chapter-${chapter.id}`;
    article.append(el("p", { class: "chapter-section", text: `Chapter ${CHAPTERS.indexOf(chapter) + 1} of ${CHAPTERS.length} · the text's section: ${chapter.section}` }),
      el("h2", { text: chapter.title }));
    const body = el("div", { class: "chapter-body" });
    article.append(body);
    Promise.resolve().then(() => chapter.render(body, context(chapter))).catch((err) => showError(`${chapter.title}: ${err.message}`));
    if (location.hash !== `#learn=${chapter.id}`) history.replaceState(null, "", `#learn=${chapter.id}`);
    drawList();
    article.scrollIntoView?.({ block: "start" });
  }

  function firstUndone() {
    const progress = readProgress();
    return CHAPTERS.find((c) => !progress[c.id]?.done) || CHAPTERS[0];
  }

  function enter(id = null) {
    document.body.classList.add("learning");
    root.hidden = false;
    toggle.setAttribute("aria-pressed", "true");
    toggle.textContent = "← Simulator";
    show(id);
  }

  function leave() {
    if (root.hidden) return;
    document.body.classList.remove("learning");
    root.hidden = true;
    toggle.setAttribute("aria-pressed", "false");
    toggle.textContent = "Learn";
    hooks.frame.clear();
    hooks.state.clear();
    open = null;
    onLeave();
  }

  toggle.addEventListener("click", () => (root.hidden ? enter(chapterInHash()) : leave()));
  window.addEventListener("hashchange", () => {
    const id = chapterInHash();
    if (id) enter(id);
  });

  return {
    active: () => !root.hidden,
    /** After hello: open the chapter the URL names, if any. */
    start() {
      lessons.drop("the connection was renewed; ask again");
      const id = chapterInHash();
      if (id && !(this.active() && open?.id === id)) enter(id);
    },
    receive: (msg) => lessons.receive(msg),
    frame: (f) => hooks.frame.forEach((cb) => cb(f)),
    state: (s) => hooks.state.forEach((cb) => cb(s)),
  };
}
