// A learner's progress, kept in this browser: { "<chapter id>": { done, summary, at } }.
const KEY = "deltaflow-learn";

/** The stored progress; a missing, corrupt or foreign value reads as none (start over). */
export function readProgress() {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** Mark chapter `id` done with the numbers of the run that met its challenge. */
export function markDone(id, summary) {
  const progress = readProgress();
  progress[id] = { done: true, summary, at: Date.now() };
  try {
    localStorage.setItem(KEY, JSON.stringify(progress));
  } catch {
    // storage full or switched off: this visit's lesson goes on, only the record is not kept
  }
}
