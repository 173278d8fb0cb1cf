// The review queue, one judgment at a time, by keyboard: A accepts, R rejects (a rejection
// needs a note: R opens the note, Enter sends it), N writes a note, J / K move on and back,
// Esc leaves the note. The queue and the reviews go through the REST API (docs/api.md);
// everything a model or a labeler wrote goes into the page as text (lib/el.js), never as HTML.
import { NetworkError, request } from "./lib/api.js";
import { append, fill, h } from "./lib/el.js";
import { isTextEntry } from "./lib/keys.js";

const root = document.querySelector("#review");
const status = document.querySelector("#review-status");
const article = document.querySelector("#judgment");
const form = document.querySelector("#verdict");
const note = document.querySelector("#review-note");
const errors = document.querySelector("#review-errors");
const state = { items: [], index: 0, pending: null, busy: false, remaining: 0 };

async function load() {
  status.textContent = "Loading…";
  try {
    const { status: code, data } = await request("GET", root.dataset.queueUrl);
    if (code !== 200) {
      status.textContent = data?.detail || `The queue could not be read (${code}).`;
      return;
    }
    state.items = data.judgments;
    state.index = 0;
    state.remaining = data.remaining;
    show();
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    status.textContent = `The queue could not be read: ${error.message}.`;
  }
}

function show() {
  const item = state.items[state.index];
  state.pending = null;
  note.value = "";
  errors.replaceChildren();
  if (!item) {
    article.hidden = form.hidden = true;
    status.textContent = "Nothing left to review in this queue.";
    return;
  }
  article.hidden = form.hidden = false;
  article.dataset.judgment = item.judgment;
  status.textContent = `Judgment ${state.index + 1} of ${state.items.length} (${state.remaining} unreviewed in this queue).`;
  fill(article,
    h("header", {}, h("h2", {}, `Judgment #${item.judgment}`),
      h("p", { class: "meta" }, `by ${item.labeler} · task #${item.task} · ${item.kind}`,
        item.time_spent_ms == null ? "" : ` · ${Math.round(item.time_spent_ms / 1000)} s`)),
    h("section", { class: "prompt" }, h("h3", {}, "Prompt"), h("p", { class: "prompt-text" }, item.prompt)),
    h("h3", {}, "The answers, in the order the labeler saw them"),
    h("ol", { class: "completions review-completions" }, item.completions.map((c) => completion(item, c))),
    item.rationale ? h("p", {}, h("strong", {}, "Rationale: "), item.rationale) : null,
    item.better_answer ? h("div", {}, h("strong", {}, "Better answer written: "), h("p", { class: "completion-text" }, item.better_answer)) : null,
    h("p", { class: "current-review", "data-verdict": item.review?.verdict || "" },
      item.review ? `Current review: ${verdictText(item.review.verdict)} by ${item.review.reviewer}${item.review.note ? ` — “${item.review.note}”` : ""}` : "Not reviewed yet."));
}

function completion(item, c) {
  let place = "";
  if (item.kind === "pairwise") place = c.id === item.preferred ? `preferred (${item.strength.replace("_", " ")})` : item.strength === "tie" || item.strength === "both_bad" ? item.strength.replace("_", " ") : "";
  else if (c.rank) place = `ranked #${c.rank}${c.tied ? " (tie)" : ""}`;
  return h("li", { class: "completion card", data: { id: c.id } },
    h("p", { class: "meta" }, h("span", { class: "rank" }, place || "not ranked"),
      c.flags.length ? h("span", { class: "flags" }, ` · flagged: ${c.flags.join(", ")}`) : null,
      c.ratings ? ` · ratings: ${Object.entries(c.ratings).map(([k, v]) => `${k} ${v}`).join(", ")}` : null),
    h("p", { class: "completion-text" }, c.text));
}

function verdictText(verdict) {
  return verdict === "reject" ? "rejected" : "accepted";
}

async function send(verdict) {
  const item = state.items[state.index];
  if (!item || state.busy) return;
  const text = note.value.trim();
  if (verdict === "reject" && !text) {
    state.pending = "reject";
    note.focus();
    status.textContent = "A rejection needs a note: write what is wrong, then press Enter.";
    return;
  }
  state.busy = true;
  errors.replaceChildren();
  try {
    const body = { judgment: item.judgment, verdict, note: text, source: root.dataset.source };
    const { status: code, data } = await request("POST", root.dataset.reviewsUrl, body);
    if (code === 201) {
      item.review = data;
      state.remaining = Math.max(0, state.remaining - 1);
      const done = `Judgment #${item.judgment} ${verdictText(verdict)}.`;
      move(1);
      status.textContent = `${done} ${status.textContent}`;
      return;
    }
    status.textContent = data?.detail || `Not saved (${code}).`;
    append(errors, h("ul", {}, (data?.errors || []).map((e) => h("li", {}, `${e.field}: ${e.message}`))));
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    status.textContent = `Not saved: ${error.message}. Try again.`;
  } finally {
    state.busy = false;
  }
}

function move(step) {
  const next = state.index + step;
  if (next < 0) return;
  if (next >= state.items.length) {
    load(); // the queue's next unreviewed judgments
    return;
  }
  state.index = next;
  show();
  root.focus();
}

note.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    note.blur();
    root.focus();
  } else if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    if (state.pending) send(state.pending);
    else status.textContent = "Press Esc, then A to accept or R to reject with this note.";
  }
});

document.addEventListener("keydown", (event) => {
  if (isTextEntry(event.target) || event.ctrlKey || event.metaKey || event.altKey || form.hidden) return;
  const key = event.key.toLowerCase();
  const actions = {
    a: () => send("accept"), r: () => send("reject"), n: () => note.focus(),
    j: () => move(1), arrowright: () => move(1), k: () => move(-1), arrowleft: () => move(-1),
  };
  if (!actions[key]) return;
  event.preventDefault();
  actions[key]();
});

form.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.verdict) send(button.dataset.verdict);
  else if (button.dataset.move) move(Number(button.dataset.move));
});

load();
