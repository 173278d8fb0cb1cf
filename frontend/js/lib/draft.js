// A half-done answer, kept in localStorage per lease so that a reload (or a crash, or the
// phone dropping the tab) does not lose it. Cleared when the answer is sent or the task
// skipped; drafts of leases that have ended are dropped when the page starts.

const PREFIX = "labelhub.draft.";

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: the page works, drafts are not kept
  }
}

/** Keep `answer` for lease `assignment` (task `taskId`, ending at ISO `expiresAt`). */
export function saveDraft({ assignment, taskId, expiresAt, key, answer }) {
  try {
    storage()?.setItem(PREFIX + assignment, JSON.stringify({ taskId, expiresAt, key, answer, savedAt: Date.now() }));
  } catch {
    // quota exceeded: the draft is a convenience
  }
}

/** The kept draft of this lease, or null (a draft of another task under that id is ignored). */
export function loadDraft(assignment, taskId) {
  try {
    const draft = JSON.parse(storage()?.getItem(PREFIX + assignment) ?? "null");
    return draft && draft.taskId === taskId && typeof draft.answer === "object" ? draft : null;
  } catch {
    return null;
  }
}

export function clearDraft(assignment) {
  storage()?.removeItem(PREFIX + assignment);
}

/** Drop the drafts of leases that have ended. */
export function pruneDrafts(now = Date.now()) {
  const store = storage();
  if (!store) return;
  for (const name of Object.keys(store)) {
    if (!name.startsWith(PREFIX)) continue;
    let expired = true;
    try {
      expired = !(Date.parse(JSON.parse(store.getItem(name)).expiresAt) > now);
    } catch {
      // unreadable: drop it
    }
    if (expired) store.removeItem(name);
  }
}
