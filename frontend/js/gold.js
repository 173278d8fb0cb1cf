// A task's gold answer, given with the labeling page's widgets (lib/task-view.js: the prompt,
// the completion cards with their rating and flag controls, the answer panel; lib/ranking.js
// for ranks with ties). Saving PATCHes the task through the API, which checks the answer with
// the rules a labeler's submission meets and answers field errors in the one error shape.
import { NetworkError, request } from "./lib/api.js";
import { append, fill, h } from "./lib/el.js";
import { Ranking } from "./lib/ranking.js";
import { STRENGTHS, answerPanel, completionCard, labelsFor, promptSection, rankChip } from "./lib/task-view.js";

const root = document.querySelector("#gold-editor");
const payload = JSON.parse(document.querySelector("#gold-task").textContent);
const status = document.querySelector("#gold-status");
const ids = payload.completions.map((c) => c.id);
const view = {
  kind: payload.task.kind, ids, campaign: payload.campaign, labels: labelsFor(payload.task.kind, ids),
  correcting: { id: 0 }, ranking: new Ranking(ids), strength: null,
};
const byId = new Map(payload.completions.map((c) => [c.id, c]));

function build() {
  fill(root.querySelector("#task"), promptSection(payload.prompt),
    h("div", { class: "completions" }, payload.completions.map((c) => completionCard(view, c))));
  const panel = answerPanel(view);
  panel.querySelector("[data-action=submit]").replaceChildren("Save gold answer");
  panel.querySelector("[data-action=undo]")?.remove();
  fill(root.querySelector("#answer-panel"), panel);
  for (const button of root.querySelectorAll("[data-action=edit]")) button.remove(); // no better answer for gold
  restore(payload.gold_answer);
  renderRanking();
}

function restore(gold) {
  if (!gold) return;
  if (gold.ranking) view.ranking.restore(gold.ranking);
  if (view.kind === "pairwise" && gold.strength) {
    const side = gold.preferred === ids[0] ? "A" : gold.preferred === ids[1] ? "B" : null;
    view.strength = STRENGTHS.find((s) => s.side === side && s.strength === gold.strength) || null;
    pressStrength();
  }
  for (const [cid, axes] of Object.entries(gold.ratings || {})) {
    for (const [axis, value] of Object.entries(axes)) {
      for (const input of root.querySelectorAll(`input[data-id="${Number(cid)}"]`)) {
        if (input.dataset.axis !== axis) continue;
        if (input.type === "radio") input.checked = Number(input.value) === value;
        else input.value = value;
      }
    }
  }
  for (const [cid, flags] of Object.entries(gold.flags || {})) {
    for (const button of root.querySelectorAll(`[data-action=flag][data-id="${Number(cid)}"]`)) {
      button.setAttribute("aria-pressed", String(flags.includes(button.dataset.flag)));
    }
  }
}

function renderRanking() {
  const list = root.querySelector("#ranking");
  if (!list) return;
  const chip = (id) => rankChip(view, byId.get(id));
  fill(list, view.ranking.groups.flatMap((group, index) => group.map((id, place) => {
    const node = chip(id);
    node.querySelector(".chip-rank").textContent = `${index + 1}`;
    node.querySelector("[data-action=tie]").setAttribute("aria-pressed", String(group.length > 1 && place > 0));
    return node;
  })));
  fill(root.querySelector("#pool"), view.ranking.pool.map(chip));
  for (const id of ids) {
    const rank = view.ranking.rankOf(id);
    const badge = root.querySelector(`#completion-${id}-rank`);
    if (badge) badge.textContent = rank ? `#${rank.rank}${rank.tied ? " (tie)" : ""}` : "";
  }
}

function pressStrength() {
  for (const button of root.querySelectorAll("[data-action=strength]")) {
    button.setAttribute("aria-pressed", String(view.strength?.key === button.dataset.key));
  }
}

function collect() {
  const ratings = {};
  for (const input of root.querySelectorAll("input[data-axis]")) {
    if ((input.type === "radio" && !input.checked) || input.value === "") continue;
    (ratings[input.dataset.id] ||= {})[input.dataset.axis] = Number(input.value);
  }
  const flags = {};
  for (const button of root.querySelectorAll("[data-action=flag][aria-pressed=true]")) {
    (flags[button.dataset.id] ||= []).push(button.dataset.flag);
  }
  const answer = { ratings, flags };
  if (view.kind === "rank") answer.ranking = view.ranking.toJSON();
  if (view.kind === "pairwise") {
    answer.strength = view.strength?.strength ?? null;
    answer.preferred = view.strength?.side ? ids[view.strength.side === "A" ? 0 : 1] : null;
  }
  return answer;
}

async function save(body) {
  const errors = root.querySelector("#answer-errors");
  errors.replaceChildren();
  status.textContent = "Saving…";
  try {
    const { status: code, data } = await request("PATCH", root.dataset.taskUrl, body);
    if (code === 200) {
      status.textContent = data.is_gold ? "Saved: this task is gold, with this expected answer." : "This task is no longer gold.";
      root.dataset.saved = data.is_gold ? "gold" : "ordinary";
      return;
    }
    status.textContent = data?.detail || `Not saved (${code}).`;
    append(errors, h("ul", {}, (data?.errors || []).map((e) => h("li", {}, `${e.field}: ${e.message}`))));
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    status.textContent = `Not saved: ${error.message}. Try again.`;
  }
}

root.addEventListener("click", (event) => {
  const target = event.target.closest("[data-action], .chip");
  if (!target) return;
  const action = target.dataset.action;
  const chipId = Number(target.closest(".chip")?.dataset.id);
  if (action === "submit") {
    save({ is_gold: true, gold_answer: collect(), is_qualification: root.querySelector("#gold-qualification").checked });
  }
  else if (action === "clear") save({ is_gold: false });
  else if (action === "strength") {
    view.strength = STRENGTHS.find((s) => s.key === target.dataset.key);
    pressStrength();
  } else if (action === "flag") {
    target.setAttribute("aria-pressed", String(target.getAttribute("aria-pressed") !== "true"));
  } else if (action === "tie") {
    view.ranking.toggleTie(Number(target.dataset.id));
    renderRanking();
  } else if (chipId) { // a chip: place it at the next rank, or take it back
    if (view.ranking.isRanked(chipId)) view.ranking.unrank(chipId);
    else view.ranking.place(chipId);
    renderRanking();
  }
});

root.addEventListener("keydown", (event) => { // 1…K place a completion, as on the labeling page
  if (view.kind !== "rank" || event.target.matches("input, textarea") || event.ctrlKey || event.metaKey) return;
  const id = ids[Number(event.key) - 1];
  if (id === undefined) return;
  view.ranking.place(id);
  renderRanking();
});

build();
