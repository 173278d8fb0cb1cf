// The labeling page: lease a task, judge it, submit, next — keyboard first.
//
// The task on screen is `state.view`; the next one is leased as soon as a task is shown
// (`state.upcoming`, POST next?after=<task on screen>), so it appears at once after submit.
// Submissions carry an idempotency key made when the task is shown; on a network failure the
// answer stays on screen and is sent again with the same key until the server answers.
// A half-done answer is kept per lease in localStorage (lib/draft.js) and comes back after a
// reload. The last submit can be undone while its lease lasts: the task comes back with that
// answer, and what is submitted then is a correction (a new judgment; the first one stays).
import Sortable from "../vendor/sortablejs/sortable.esm.js";
import { NetworkError, newKey, request } from "./lib/api.js";
import { clearDraft, loadDraft, pruneDrafts, saveDraft } from "./lib/draft.js";
import { fill, h } from "./lib/el.js";
import { isRatingOption, isTextEntry, ownsArrowKeys, ownsEnter } from "./lib/keys.js";
import { Ranking } from "./lib/ranking.js";
import {
  STRENGTHS, answerPanel, completionCard, flagKeysList, guidelinesContent, labelsFor, nothingLeft, notesSection,
  promptSection, rankChip,
} from "./lib/task-view.js";
import { ActiveTimer } from "./lib/timer.js";

const root = document.getElementById("labeling");
const $ = (selector) => root.querySelector(selector);
const cfg = {
  campaign: root.dataset.campaign,
  nextUrl: root.dataset.nextUrl,
  homeApiUrl: root.dataset.homeApiUrl,
  homeUrl: root.dataset.homeUrl,
  loginUrl: root.dataset.loginUrl,
  assignmentUrl: (action, id) => root.dataset[`${action}Url`].replace("/0/", `/${id}/`),
};
const DRAFT_DELAY_MS = 300; // typing is saved this long after the last key
const els = {
  task: $("#task"), panel: $("#answer-panel"), notes: $("#notes-panel"), progress: $("#progress"), notice: $("#notice"),
  announce: $("#announce"), title: $("#campaign-name"), guidelines: $("#guidelines"),
  guidelinesBody: $("#guidelines-body"), guidelinesVersion: $("#guidelines-version"),
  shortcuts: $("#shortcuts-dialog"), skip: $("#skip-dialog"), skipForm: $("#skip-form"),
  skipReason: $("#skip-reason"), skipError: $("#skip-error"), flagKeys: $("#flag-keys"),
  qualification: $("#qualification"),
};
const RETRY_MAX_S = 30;

const state = {
  view: null, // the task on screen
  upcoming: null, // Promise<lease | null | undefined> — the prefetched next task (undefined: failed)
  upcomingLease: null,
  judged: 0,
  busy: false, // a submit or skip is being sent (or waits to be sent again)
  guidelinesKey: null,
  last: null, // {assignment, judgment, expiresAt}: the last submit, which "undo" reopens
  resume: null, // while correcting: the lease that was on screen (null: "nothing left")
  pendingFlag: false, // "f" was pressed: the next digit toggles that flag
  qualificationResult: null, // the result of a qualification attempt the last submit ended
};

// --- loading tasks ----------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, data) {
    super(data?.detail || `The server answered ${status}.`);
    this.status = status;
    this.code = data?.code;
  }
}

// Why a queue stops although the labeler is signed in (403 from next/, docs/quality.md).
const STOPPED = {
  labeler_paused: "You are paused in this campaign",
  qualification_failed: "Qualification not passed",
  qualification_waiting: "Qualification needed",
};

async function fetchNext(afterTaskId) {
  const params = new URLSearchParams();
  if (cfg.campaign) params.set("campaign", cfg.campaign);
  if (afterTaskId) params.set("after", afterTaskId);
  const { status, data } = await request("POST", `${cfg.nextUrl}?${params}`);
  if (status === 200) return data;
  if (status === 204) return null;
  throw new HttpError(status, data);
}

function prefetch(taskId) {
  state.upcomingLease = null;
  state.upcoming = fetchNext(taskId).then(
    (lease) => { state.upcomingLease = lease; return lease; },
    () => undefined,
  );
  state.upcoming.then(refreshProgress);
}

async function start() {
  bindEvents();
  restoreGuidelinesToggle();
  pruneDrafts();
  try {
    present(await fetchNext(null));
  } catch (error) {
    showLoadError(error);
  }
}

/** Show the prefetched task (or ask again when the prefetch failed, found nothing or expired). */
async function advance() {
  state.view?.sortables?.forEach((sortable) => sortable.destroy());
  state.view = null;
  els.task.setAttribute("aria-busy", "true");
  let lease = await state.upcoming;
  const expired = lease && Date.parse(lease.expires_at) <= Date.now();
  if (!lease || expired) {
    try {
      lease = await fetchNext(null);
    } catch (error) {
      showLoadError(error);
      return;
    }
  }
  present(lease);
}

function present(lease) {
  if (lease === null) {
    showNothingLeft();
    return;
  }
  showTask(lease);
  prefetch(lease.task.id);
}

function showStopped(error) {
  state.upcoming = Promise.resolve(null);
  state.upcomingLease = null;
  els.task.removeAttribute("aria-busy");
  els.task.removeAttribute("data-task-id");
  fill(els.task, h("section", { class: "card stopped", data: { stopped: error.code } },
    h("h2", {}, STOPPED[error.code]),
    h("p", {}, error.message),
    h("p", {}, h("a", { class: "button primary", href: cfg.homeUrl }, "Back to your campaigns"))));
  fill(els.panel);
  fill(els.notes);
  root.classList.remove("fit");
  showQualification(null);
  updateUndo();
}

function showLoadError(error) {
  if (error.status === 403 && STOPPED[error.code]) {
    showStopped(error);
    return;
  }
  const offline = error instanceof NetworkError;
  els.task.removeAttribute("aria-busy");
  fill(els.task, h("section", { class: "card" },
    h("h2", {}, offline ? "Cannot reach the server" : "Cannot load a task"),
    h("p", {}, error.status === 403 ? "You are signed out." : error.message),
    h("p", {}, error.status === 403
      ? h("a", { class: "button primary", href: `${cfg.loginUrl}?next=${encodeURIComponent(location.pathname + location.search)}` }, "Sign in")
      : h("button", { type: "button", class: "primary", data: { action: "reload" } }, "Try again"))));
  fill(els.panel);
  fill(els.notes);
}

function showNothingLeft() {
  state.upcoming = Promise.resolve(null);
  state.upcomingLease = null;
  els.task.removeAttribute("aria-busy");
  els.task.removeAttribute("data-task-id");
  fill(els.task, nothingLeft({ judged: state.judged, homeUrl: cfg.homeUrl }));
  showQualification(null);
  updateUndo();
  fill(els.panel);
  fill(els.notes);
  root.classList.remove("fit");
  refreshProgress();
  els.task.querySelector("a")?.focus();
}

// --- showing a task ---------------------------------------------------------------------------

/** Show a lease. `correcting`: the judgment being changed ("undo"), whose answer is shown. */
function showTask(lease, { correcting = null } = {}) {
  state.view?.sortables?.forEach((sortable) => sortable.destroy());
  const ids = lease.completions.map((c) => c.id);
  const view = {
    lease, kind: lease.task.kind, campaign: lease.campaign, ids,
    byId: new Map(lease.completions.map((c) => [c.id, c])),
    labels: labelsFor(lease.task.kind, ids),
    ranking: lease.task.kind === "rank" ? new Ranking(ids) : null,
    strength: null, selected: ids[0], key: newKey(), timer: new ActiveTimer(), dirty: false,
    cards: new Map(), chips: new Map(), sortables: [], correcting, draftTimer: null,
  };
  state.view = view;
  els.title.textContent = lease.campaign.name;
  for (const completion of lease.completions) view.cards.set(completion.id, completionCard(view, completion));
  fill(els.task, promptSection(lease.prompt),
    h("section", { class: `completions kind-${view.kind}`, "aria-label": "Responses" }, [...view.cards.values()]));
  fill(els.notes, notesSection());
  // up to four responses fit one screen side by side (label.css); more flow in rows
  root.classList.toggle("fit", ids.length <= 4);
  root.style.setProperty("--k", String(ids.length));
  els.task.dataset.taskId = lease.task.id;
  els.task.removeAttribute("aria-busy");
  fill(els.panel, answerPanel(view));
  fill(els.flagKeys, flagKeysList(lease.campaign.flag_vocabulary || []));
  if (view.ranking) setUpRanking(view);
  showGuidelines(lease.campaign);
  clearNotice();
  showQualification(lease.qualification);
  const restored = correcting ? restoreAnswer(view, answerOf(view, correcting)) : restoreDraft(view);
  if (correcting) showCorrecting(view);
  else if (restored) announce("Your unsent answer to this task is back.");
  updateUndo();
  select(view, view.selected, { focus: false });
  window.scrollTo(0, 0);
  view.cards.get(view.selected).focus({ preventScroll: true });
}

function setUpRanking(view) {
  for (const completion of view.lease.completions) view.chips.set(completion.id, rankChip(view, completion));
  const lists = [$("#ranking"), $("#pool")];
  const options = {
    group: `ranking-${view.lease.assignment}`,
    animation: matchMedia("(prefers-reduced-motion: reduce)").matches ? 0 : 120, filter: ".tie", preventOnFilter: false,
    ghostClass: "chip-ghost", chosenClass: "chip-chosen", fallbackClass: "chip-dragged", emptyInsertThreshold: 30,
    forceFallback: true, fallbackOnBody: true, // pointer events, not HTML5 drag: the same in every browser, and no stuck drags
    onEnd: (event) => {
      const order = (list) => [...list.children].map((chip) => Number(chip.dataset.id));
      const moved = Number(event.item.dataset.id);
      view.ranking.setOrder(order(lists[0]), order(lists[1]), moved);
      rankingChanged(view, moved);
    },
  };
  view.sortables = lists.map((list) => Sortable.create(list, options));
  layoutRanking(view);
}

/** Put chips in ranking order and update every rank badge. */
function layoutRanking(view) {
  const ranking = view.ranking;
  const active = document.activeElement;
  const [rankedList, pool] = [$("#ranking"), $("#pool")];
  const groups = ranking.toJSON();
  rankedList.replaceChildren(...groups.flat().map((id) => view.chips.get(id)));
  pool.replaceChildren(...ranking.pool.map((id) => view.chips.get(id)));
  groups.forEach((group, index) => group.forEach((id, position) => {
    const tied = group.length > 1;
    const chip = view.chips.get(id);
    chip.classList.toggle("in-tie", tied);
    chip.classList.toggle("tied", position > 0);
    chip.querySelector(".chip-rank").textContent = `${index + 1}${tied ? "=" : ""}`;
    const tie = chip.querySelector(".tie");
    tie.hidden = index === 0 && position === 0;
    tie.setAttribute("aria-pressed", String(tied));
    badge(view, id, `Rank ${index + 1}${tied ? " (tie)" : ""}`, true);
  }));
  for (const id of ranking.pool) {
    const chip = view.chips.get(id);
    chip.classList.remove("in-tie", "tied");
    chip.querySelector(".chip-rank").textContent = "–";
    chip.querySelector(".tie").hidden = true;
    badge(view, id, "Not ranked", false);
  }
  $(".pool-title").hidden = ranking.pool.length === 0;
  if (active instanceof HTMLElement && active.isConnected && document.activeElement !== active) {
    active.focus({ preventScroll: true });
  }
}

function badge(view, id, text, ranked) {
  const card = view.cards.get(id);
  card.querySelector(".rank-badge").textContent = text;
  card.classList.toggle("ranked", ranked);
}

function rankingChanged(view, id) {
  changed(view);
  clearErrors();
  layoutRanking(view);
  select(view, id, { focus: false });
  const rank = view.ranking.rankOf(id);
  announce(rank ? `Response ${view.labels.get(id)}: rank ${rank.rank}${rank.tied ? ", tied" : ""}.`
    : `Response ${view.labels.get(id)} is not ranked.`);
}

function select(view, id, { focus = true } = {}) {
  view.selected = id;
  for (const [cid, card] of view.cards) card.classList.toggle("selected", cid === id);
  for (const [cid, chip] of view.chips) chip.classList.toggle("selected", cid === id);
  if (focus) view.cards.get(id).focus();
}

function showGuidelines(campaign) {
  const key = `${campaign.slug}:${campaign.guidelines_version}`;
  if (state.guidelinesKey === key) return;
  state.guidelinesKey = key;
  fill(els.guidelinesBody, guidelinesContent(campaign));
  const seenKey = `labelhub.guidelines.seen.${campaign.slug}`;
  const seen = localStorage.getItem(seenKey);
  const updated = seen !== null && seen !== String(campaign.guidelines_version);
  els.guidelinesVersion.textContent = `version ${campaign.guidelines_version}${updated ? " — updated, please reread" : ""}`;
  if (updated) { // the version this labeler last read, compared line by line with this one
    const since = encodeURIComponent(seen);
    els.guidelinesVersion.append(" · ", h("a", {
      href: `/campaigns/${encodeURIComponent(campaign.slug)}/guidelines/?since=${since}#changes`, target: "_blank",
      rel: "noopener", "data-guidelines-changes": "",
    }, "what changed"));
  }
  els.guidelines.classList.toggle("updated", updated);
  if (updated) setGuidelinesOpen(true);
  localStorage.setItem(seenKey, String(campaign.guidelines_version));
}

function setGuidelinesOpen(open) {
  els.guidelines.hidden = !open;
  root.querySelector("[data-action=guidelines]").setAttribute("aria-expanded", String(open));
  root.classList.toggle("guidelines-closed", !open);
  localStorage.setItem("labelhub.guidelines.open", open ? "1" : "0");
}

function restoreGuidelinesToggle() {
  setGuidelinesOpen(localStorage.getItem("labelhub.guidelines.open") !== "0");
}

let progressRequest = 0;

/** "N judged this session · M left": M is the server's count of tasks left for this labeler,
 *  which includes the ones they hold (on screen, prefetched). */
async function refreshProgress() {
  const request_ = ++progressRequest;
  let left = null;
  try {
    const { status, data } = await request("GET", cfg.homeApiUrl);
    if (status === 200 && Array.isArray(data)) {
      const rows = cfg.campaign ? data.filter((row) => row.slug === cfg.campaign) : data;
      left = rows.reduce((sum, row) => sum + row.tasks_left, 0);
    }
  } catch {
    // The counter is a convenience; the page works without it.
  }
  if (request_ !== progressRequest) return; // a newer count is on its way
  const judged = `${state.judged} judged this session`;
  els.progress.textContent = left === null ? judged : `${judged} · ${left} left`;
}

// --- answering --------------------------------------------------------------------------------

function rankKey(view, n) {
  const id = view.ids[n - 1];
  if (id === undefined) return false;
  if (view.ranking.place(id)) rankingChanged(view, id);
  select(view, id);
  return true;
}

function moveSelected(view, delta) {
  if (!view.ranking.isRanked(view.selected)) {
    announce(`Response ${view.labels.get(view.selected)} is not ranked yet: press ${view.labels.get(view.selected)} first.`);
    return true;
  }
  if (view.ranking.move(view.selected, delta)) rankingChanged(view, view.selected);
  select(view, view.selected);
  return true;
}

function tie(view, id) {
  if (!view.ranking?.toggleTie(id)) {
    announce("Only a ranked response below rank 1 can be tied with the rank above.");
    return;
  }
  rankingChanged(view, id);
}

function unrank(view, id) {
  if (view.ranking?.unrank(id)) rankingChanged(view, id);
}

function setStrength(view, key) {
  const choice = STRENGTHS.find((s) => s.key === key);
  if (!choice) return false;
  view.strength = choice;
  changed(view);
  clearErrors();
  for (const button of els.panel.querySelectorAll("[data-action=strength]")) {
    button.setAttribute("aria-pressed", String(button.dataset.key === key));
  }
  for (const [id, card] of view.cards) {
    card.classList.toggle("preferred", choice.side !== null && view.labels.get(id) === choice.side);
  }
  announce(`${choice.label}.`);
  return true;
}

function toggleFlag(view, button) {
  const pressed = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(pressed));
  changed(view);
  return pressed;
}

function editAsBetterAnswer(view, id) {
  const editor = $("#better-answer");
  const completion = view.byId.get(id);
  const draft = editor.value.trim();
  const isOwnDraft = draft && ![...view.byId.values()].some((c) => c.text.trim() === draft);
  if (isOwnDraft && !window.confirm("Replace your better answer with this response's text?")) return;
  editor.value = completion.text;
  $("#better-source").textContent = `Started from response ${view.labels.get(id)}.`;
  changed(view);
  editor.focus();
  editor.setSelectionRange(0, 0);
  editor.scrollTop = 0;
}

/** What is missing before the answer can be sent, or null. */
function missing(view) {
  if (view.kind === "rank" && !view.ranking.isComplete()) {
    const left = view.ranking.pool.map((id) => view.labels.get(id)).join(", ");
    return [{ field: "ranking", message: `rank every response — not ranked yet: ${left} (press their numbers or drag them)` }];
  }
  if (view.kind === "pairwise" && !view.strength) {
    return [{ field: "strength", message: "choose which response is better: keys 1–7, or 0 when both are bad" }];
  }
  return null;
}

/** The answer on screen, complete or not: what a draft keeps and a submit sends. */
function collect(view) {
  const ratings = {};
  for (const input of els.task.querySelectorAll(".rating input")) {
    const checked = input.type === "radio" ? input.checked : input.value !== "";
    if (!checked) continue;
    (ratings[input.dataset.id] ||= {})[input.dataset.axis] = Number(input.value);
  }
  const flags = {};
  for (const button of els.task.querySelectorAll("[data-action=flag][aria-pressed=true]")) {
    (flags[button.dataset.id] ||= []).push(button.dataset.flag);
  }
  return {
    ranking: view.ranking ? view.ranking.toJSON() : null, strength: view.strength?.key ?? null, ratings, flags,
    rationale: $("#rationale").value, better_answer: $("#better-answer").value,
    better_source: $("#better-source").textContent,
  };
}

function answer(view) {
  const { ranking, ratings, flags, rationale, better_answer } = collect(view);
  const body = { idempotency_key: view.key, ratings, flags, rationale, better_answer, time_spent_ms: view.timer.ms() };
  if (view.kind === "rank") body.ranking = ranking;
  if (view.kind === "pairwise") {
    const side = view.strength.side;
    body.preferred = side === null ? null : view.ids[side === "A" ? 0 : 1];
    body.strength = view.strength.strength;
  }
  if (view.correcting) body.corrects = view.correcting.id;
  return body;
}

/** A judgment (the server's shape) as the page's answer, to show it again for a correction. */
function answerOf(view, judgment) {
  let strength = null;
  if (view.kind === "pairwise") {
    const side = judgment.preferred === view.ids[0] ? "A" : judgment.preferred === view.ids[1] ? "B" : null;
    strength = STRENGTHS.find((s) => s.side === side && s.strength === judgment.strength)?.key ?? null;
  }
  return {
    ranking: judgment.ranking, strength, ratings: judgment.ratings || {}, flags: judgment.flags || {},
    rationale: judgment.rationale || "", better_answer: judgment.better_answer || "", better_source: "",
  };
}

/** Put a kept answer back on screen; false when there was nothing to put back. */
function restoreAnswer(view, saved) {
  if (!saved) return false;
  if (view.ranking && saved.ranking) {
    view.ranking.restore(saved.ranking);
    layoutRanking(view);
  }
  if (saved.strength) setStrength(view, saved.strength);
  for (const [id, axes] of Object.entries(saved.ratings || {})) {
    for (const [axis, value] of Object.entries(axes || {})) {
      for (const input of els.task.querySelectorAll(".rating input")) {
        if (input.dataset.id !== id || input.dataset.axis !== axis) continue;
        if (input.type === "radio") input.checked = Number(input.value) === value;
        else input.value = String(value);
      }
    }
  }
  for (const [id, flags] of Object.entries(saved.flags || {})) {
    for (const button of els.task.querySelectorAll(`[data-action=flag][data-id="${CSS.escape(id)}"]`)) {
      if ((flags || []).includes(button.dataset.flag)) button.setAttribute("aria-pressed", "true");
    }
  }
  $("#rationale").value = saved.rationale || "";
  $("#better-answer").value = saved.better_answer || "";
  $("#better-source").textContent = saved.better_source || "";
  view.dirty = false;
  return true;
}

// --- drafts: a half-done answer survives a reload ----------------------------------------------

/** The answer changed: remember it (at once, or `later` for typing). */
function changed(view, { later = false } = {}) {
  view.dirty = true;
  clearTimeout(view.draftTimer);
  if (later) view.draftTimer = setTimeout(() => keepDraft(view), DRAFT_DELAY_MS);
  else keepDraft(view);
}

function keepDraft(view) {
  clearTimeout(view.draftTimer);
  if (view.correcting || state.view !== view || !view.dirty) return;
  saveDraft({
    assignment: view.lease.assignment, taskId: view.lease.task.id, expiresAt: view.lease.expires_at,
    key: view.key, answer: collect(view),
  });
}

function restoreDraft(view) {
  const draft = loadDraft(view.lease.assignment, view.lease.task.id);
  if (!draft) return false;
  if (typeof draft.key === "string") view.key = draft.key; // a sent-but-unanswered submit stays idempotent
  restoreAnswer(view, draft.answer);
  view.dirty = true;
  return true;
}

async function submit() {
  const view = state.view;
  if (!view || state.busy) return;
  const problem = missing(view);
  if (problem) {
    showErrors(view, problem);
    return;
  }
  await send(view, "submit", answer(view));
}

async function skip(reason) {
  const view = state.view;
  if (!view || state.busy) return;
  await send(view, "skip", { reason });
}

/** Send until the server answers; network failures and 5xx retry with the same body and key. */
async function send(view, action, body) {
  setBusy(true);
  let attempt = 0;
  for (;;) {
    let result;
    try {
      result = await request("POST", cfg.assignmentUrl(action, view.lease.assignment), body);
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      result = { status: 0, data: { detail: error.message } };
    }
    if (result.status === 0 || result.status >= 500 || result.status === 429) {
      attempt += 1;
      await waitToRetry(action, result, attempt);
      continue;
    }
    if (result.status === 403) {
      await waitForSignIn();
      continue;
    }
    return finish(view, action, result);
  }
}

function finish(view, action, { status, data }) {
  if (status === 200 || status === 201) {
    clearNotice();
    clearDraft(view.lease.assignment);
    if (action === "submit" && !view.correcting) state.judged += 1;
    if (action === "submit" && data.qualification) state.qualificationResult = data.qualification;
    state.last = action === "submit"
      ? { assignment: view.lease.assignment, judgment: data.id, expiresAt: view.lease.expires_at }
      : null;
    view.dirty = false;
    setBusy(false);
    if (view.correcting) {
      announce("Your answer was changed.");
      leaveCorrection();
      return;
    }
    announce(action === "submit" ? "Saved." : "Skipped.");
    if (data?.stopped) { // this answer stopped the queue (the labeler was paused): the prefetched lease is revoked
      state.view?.sortables?.forEach((sortable) => sortable.destroy());
      state.view = null;
      showStopped({ code: data.stopped.code, message: data.stopped.detail });
      return;
    }
    advance();
    return;
  }
  setBusy(false);
  if (status === 400) {
    // the API's error shape: {detail, code, errors: [{field, message}]} (docs/api.md)
    showErrors(view, data?.errors?.length ? data.errors
      : [{ field: null, message: data?.detail || "The server refused this answer." }]);
    select(view, view.selected);
    return;
  }
  // 404 / 409: this lease can no longer take an answer (expired and taken, already judged…).
  view.dirty = false;
  clearDraft(view.lease.assignment);
  if (view.correcting) {
    state.last = null;
    notice([`Your answer could not be changed: ${data?.detail || `error ${status}`} The first answer stands.`,
      " ", h("button", { type: "button", class: "primary", data: { action: "cancel-correction" } }, "Back")]);
  } else {
    notice([`Your answer to this task could not be saved: ${data?.detail || `error ${status}`}`,
      " ", h("button", { type: "button", class: "primary", data: { action: "next" } }, "Go to the next task")]);
  }
  els.notice.querySelector("button").focus();
}

// --- undo: change the last answer while its lease lasts -----------------------------------------

function canUndo() {
  return Boolean(state.last) && Date.parse(state.last.expiresAt) > Date.now() && !state.view?.correcting;
}

function updateUndo() {
  for (const button of root.querySelectorAll("[data-action=undo]")) button.hidden = !canUndo();
}

async function undo() {
  if (state.busy || state.view?.correcting) return;
  if (!canUndo()) {
    announce(state.last ? "Too late to undo: the lease on that task has ended." : "Nothing to undo.");
    state.last = null;
    updateUndo();
    return;
  }
  const { assignment } = state.last;
  let result;
  try {
    result = await request("GET", cfg.assignmentUrl("assignment", assignment));
  } catch (error) {
    notice(`Could not reopen the last task: ${error.message}`);
    return;
  }
  const lease = result.data;
  if (result.status !== 200 || !lease?.correctable || !lease.judgment) {
    state.last = null;
    updateUndo();
    notice(`The last answer can no longer be changed: ${result.data?.detail || "its lease has ended"}.`);
    return;
  }
  if (state.view) keepDraft(state.view);
  state.resume = state.view ? state.view.lease : null;
  showTask(lease, { correcting: lease.judgment });
}

function showCorrecting(view) {
  notice([h("strong", {}, "Changing your last answer. "),
    "Submit stores the change as a correction (your first answer stays on record). ",
    h("button", { type: "button", data: { action: "cancel-correction" } }, "Cancel")], "warning");
}

/** Back from a correction to the task that was on screen (its draft comes back with it). */
function leaveCorrection() {
  const lease = state.resume;
  state.resume = null;
  if (state.view) state.view.correcting = null;
  clearNotice();
  if (lease && Date.parse(lease.expires_at) > Date.now()) {
    showTask(lease);
    return;
  }
  advance();
}

function waitToRetry(action, result, attempt) {
  const delay = Math.min(2 ** (attempt - 1), RETRY_MAX_S);
  const reason = result.status ? `the server answered ${result.status}` : result.data.detail;
  return new Promise((resolve) => {
    const button = h("button", { type: "button" }, "Retry now");
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, delay * 1000);
    button.addEventListener("click", done, { once: true });
    // One message per attempt (no countdown): the notice is a live region.
    notice([`Could not ${action === "submit" ? "save your answer" : "skip the task"} (${reason}). `
      + `Your answer is kept and will be sent again in ${delay} s. `, button], "warning");
  });
}

function waitForSignIn() {
  return new Promise((resolve) => {
    const button = h("button", { type: "button", class: "primary" }, "Retry");
    button.addEventListener("click", resolve, { once: true });
    notice(["You are signed out, so your answer was not saved yet — it is kept here. ",
      h("a", { href: cfg.loginUrl, target: "_blank", rel: "noopener" }, "Sign in in a new tab"),
      ", then ", button, "."], "warning");
  });
}

function setBusy(busy) {
  state.busy = busy;
  root.classList.toggle("busy", busy);
  els.task.inert = busy;
  els.notes.inert = busy;
  for (const button of els.panel.querySelectorAll("button")) button.disabled = busy;
  els.task.setAttribute("aria-busy", String(busy));
}

// --- messages ---------------------------------------------------------------------------------

function describeField(view, field) {
  if (!field) return "";
  const [name, id, axis] = field.split(".");
  const label = view.labels.get(Number(id));
  const names = {
    ranking: "Ranking", strength: "Preference", preferred: "Preference", rationale: "Rationale",
    better_answer: "Better answer", time_spent_ms: "Time spent", idempotency_key: "Submission key",
    ratings: "Ratings", flags: "Flags", detail: "",
  };
  if (name === "ratings" && label) return `Rating of response ${label}${axis ? ` (${axis})` : ""}`;
  if (name === "flags" && label) return `Flags of response ${label}`;
  return names[name] ?? field;
}

function showErrors(view, errors) {
  const box = $("#answer-errors");
  if (!box) return;
  fill(box, h("ul", {}, errors.map(({ field, message }) => {
    const name = describeField(view, field);
    return h("li", {}, name ? `${name}: ${message}` : message);
  })));
  const fields = errors.map((e) => e.field || "");
  for (const fieldset of els.task.querySelectorAll(".rating")) {
    const invalid = fields.some((f) => f.startsWith(`ratings.${fieldset.dataset.id}`)
      && (f.split(".").length < 3 || f.endsWith(`.${fieldset.dataset.axis}`)));
    fieldset.classList.toggle("invalid", invalid);
    fieldset.toggleAttribute("aria-invalid", invalid);
  }
}

function clearErrors() {
  const box = $("#answer-errors");
  if (box) box.replaceChildren();
}

/** While qualifying: which attempt, how far, what it takes; and the result of the attempt just ended. */
function showQualification(progress) {
  const result = state.qualificationResult;
  state.qualificationResult = null;
  const lines = [];
  if (result) {
    const share = `${result.correct} of ${result.size} right, ${Math.round(result.threshold * 100)}% needed`;
    lines.push(result.passed
      ? `You passed the qualification (${share}): these are real tasks now.`
      : `Qualification attempt ${result.attempt} not passed (${share}).`);
  }
  if (progress) {
    lines.push(`Qualification, attempt ${progress.attempt} of ${progress.max_attempts}: task ${progress.answered + 1} ` +
      `of ${progress.size}. Get ${Math.round(progress.threshold * 100)}% right to be given real tasks.`);
  }
  els.qualification.hidden = !lines.length;
  els.qualification.textContent = lines.join(" ");
}

function notice(children, tone = "error") {
  fill(els.notice, children);
  els.notice.className = `notice ${tone}`;
  els.notice.hidden = false;
}

function clearNotice() {
  els.notice.hidden = true;
  els.notice.replaceChildren();
}

function announce(text) {
  els.announce.textContent = text;
}

// --- input ------------------------------------------------------------------------------------

function onKeyDown(event) {
  if (event.defaultPrevented || event.isComposing) return;
  if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys
  const view = state.view;
  const target = event.target;
  if (state.pendingFlag && !["Shift", "Control", "Alt", "Meta"].includes(event.key)) {
    setPendingFlag(false);
    if (view && !isTextEntry(target) && /^[1-9]$/.test(event.key)) {
      event.preventDefault();
      flagKey(view, Number(event.key));
      return;
    }
    if (event.key === "Escape") return;
  }
  if (event.key === "Escape") {
    if (view && isTextEntry(target)) select(view, view.selected);
    return;
  }
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    submit();
    return;
  }
  if (isTextEntry(target) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "u" && !state.busy) { // also from the "nothing left" screen
    event.preventDefault();
    undo();
    return;
  }
  if (!view || state.busy) return;
  if (shortcut(view, event)) event.preventDefault();
}

function shortcut(view, event) {
  const key = event.key;
  const target = event.target;
  if ((key === "ArrowUp" || key === "ArrowDown") && ownsArrowKeys(target)) return false;
  if (key === "Enter") {
    if (ownsEnter(target)) return false;
    if (!event.repeat) submit(); // a held Enter must not also submit the next task
    return true;
  }
  if (isRatingOption(target) && /^[0-9]$/.test(key)) return rateKey(view, target, Number(key));
  const common = {
    "?": () => els.shortcuts.showModal(),
    g: () => setGuidelinesOpen(els.guidelines.hidden),
    s: () => openSkip(),
    r: () => $("#rationale").focus(),
    w: () => $("#better-answer").focus(),
    e: () => editAsBetterAnswer(view, view.selected),
    v: () => focusRating(view, view.selected),
    f: () => setPendingFlag(true),
  };
  if (common[key]) {
    common[key]();
    return true;
  }
  if (view.kind === "pairwise") return pairwiseKey(view, key);
  if (/^[1-9]$/.test(key)) {
    return view.ranking ? rankKey(view, Number(key)) : selectNumber(view, Number(key));
  }
  if (!view.ranking) return false;
  const rankKeys = {
    ArrowUp: () => moveSelected(view, -1),
    ArrowDown: () => moveSelected(view, +1),
    t: () => tie(view, view.selected) ?? true,
    Backspace: () => unrank(view, view.selected) ?? true,
    Delete: () => unrank(view, view.selected) ?? true,
  };
  return rankKeys[key] ? rankKeys[key]() : false;
}

// --- ratings and flags by keyboard: v, then the value; f, then the flag's number --------------

/** Focus the first rating of response `id` (the checked option, or the first). */
function focusRating(view, id) {
  const fieldset = view.cards.get(id)?.querySelector(".rating");
  if (!fieldset) {
    announce("This campaign has no ratings.");
    return;
  }
  const control = fieldset.querySelector("input:checked") || fieldset.querySelector("input");
  control.focus();
  announce(`Rate response ${view.labels.get(id)}, ${fieldset.dataset.axis}: type the value.`);
}

/** A digit typed on a rating: set that value and go to the next rating (then the next response's). */
function rateKey(view, input, digit) {
  const fieldset = input.closest(".rating");
  const options = [...fieldset.querySelectorAll("input[type=radio]")];
  const value = options.some((o) => Number(o.value) === digit) ? digit : digit === 0 ? 10 : null;
  const option = options.find((o) => Number(o.value) === value);
  if (!option) {
    announce(`${fieldset.dataset.axis} goes from ${options[0].value} to ${options.at(-1).value}.`);
    return true;
  }
  option.checked = true;
  fieldset.classList.remove("invalid");
  changed(view);
  const all = [...els.task.querySelectorAll(".rating")];
  const next = all[all.indexOf(fieldset) + 1];
  if (next) (next.querySelector("input:checked") || next.querySelector("input")).focus();
  else select(view, view.selected);
  announce(`${fieldset.dataset.axis} ${value}.`);
  return true;
}

function setPendingFlag(pending) {
  state.pendingFlag = pending;
  root.classList.toggle("flag-keys", pending);
  if (pending && state.view) {
    const names = (state.view.campaign.flag_vocabulary || []).map((flag, i) => `${i + 1} ${flag}`).join(", ");
    announce(names ? `Flag response ${state.view.labels.get(state.view.selected)}: ${names}.` : "This campaign has no flags.");
  }
  return true;
}

function flagKey(view, n) {
  const button = view.cards.get(view.selected)?.querySelectorAll("[data-action=flag]")[n - 1];
  if (!button) return;
  const on = toggleFlag(view, button);
  announce(`Response ${view.labels.get(view.selected)}: ${button.dataset.flag} ${on ? "on" : "off"}.`);
}

function pairwiseKey(view, key) {
  if (key === "a" || key === "b") {
    select(view, view.ids[key === "a" ? 0 : 1]);
    return true;
  }
  return setStrength(view, key);
}

function selectNumber(view, n) {
  const id = view.ids[n - 1];
  if (id === undefined) return false;
  select(view, id);
  return true;
}

function onClick(event) {
  const button = event.target.closest("[data-action]");
  const view = state.view;
  if (!button) {
    const chip = event.target.closest(".chip");
    if (chip && view) select(view, Number(chip.dataset.id));
    return;
  }
  const id = Number(button.dataset.id);
  const actions = {
    submit: () => submit(),
    skip: () => openSkip(),
    guidelines: () => setGuidelinesOpen(els.guidelines.hidden),
    shortcuts: () => els.shortcuts.showModal(),
    tie: () => view && tie(view, id),
    flag: () => view && toggleFlag(view, button),
    strength: () => view && setStrength(view, button.dataset.key),
    edit: () => view && editAsBetterAnswer(view, id),
    next: () => { clearNotice(); advance(); },
    undo: () => undo(),
    "cancel-correction": () => leaveCorrection(),
    reload: () => location.reload(),
    "close-dialog": () => button.closest("dialog").close(),
  };
  actions[button.dataset.action]?.();
}

function openSkip() {
  if (!state.view || state.busy || state.view.correcting) return;
  els.skipForm.reset();
  els.skipError.textContent = "";
  els.skip.showModal();
  els.skipReason.focus();
}

function onSkipSubmit(event) {
  event.preventDefault();
  const reason = els.skipReason.value.trim();
  if (!reason) {
    els.skipError.textContent = "Say why you skip this task (pick a reason or type one).";
    els.skipReason.focus();
    return;
  }
  els.skip.close();
  skip(reason);
}

function bindEvents() {
  document.addEventListener("keydown", onKeyDown);
  root.addEventListener("click", onClick);
  root.addEventListener("focusin", (event) => {
    const card = event.target.closest?.(".completion-card");
    if (card && state.view) select(state.view, Number(card.dataset.id), { focus: false });
  });
  root.addEventListener("input", (event) => {
    if (state.view && (els.task.contains(event.target) || els.notes.contains(event.target))) {
      changed(state.view, { later: isTextEntry(event.target) });
      event.target.closest(".rating")?.classList.remove("invalid");
    }
  });
  els.skipForm.addEventListener("submit", onSkipSubmit);
  els.skip.querySelector(".reasons").addEventListener("click", (event) => {
    const reason = event.target.closest("[data-reason]")?.dataset.reason;
    if (!reason) return;
    els.skipReason.value = reason;
    els.skipReason.focus();
  });
  document.addEventListener("visibilitychange", () => {
    if (!state.view) return;
    if (document.visibilityState === "visible") state.view.timer.resume();
    else state.view.timer.pause();
  });
  // A half-done answer is kept as a draft, so only a submit still on its way asks to stay.
  window.addEventListener("beforeunload", (event) => {
    if (state.view) keepDraft(state.view);
    if (state.busy) event.preventDefault();
  });
  window.addEventListener("pagehide", () => state.view && keepDraft(state.view));
  setInterval(updateUndo, 15_000); // the undo button goes when the last task's lease ends
}

start();
