// The DOM of one labeling task: prompt, completion cards, the answer panel. Everything a
// model or a user wrote goes in as text (h() makes text nodes) or through richContent (the
// sanitizer, then code highlighting and TeX), the same for prompts, responses and chips.
import { richContent } from "./content.js";
import { h } from "./el.js";

/** Pairwise preferences, in key order. `side` is the preferred response (null: none). */
export const STRENGTHS = [
  { key: "1", side: "A", strength: "much_better", label: "A is much better" },
  { key: "2", side: "A", strength: "better", label: "A is better" },
  { key: "3", side: "A", strength: "slightly_better", label: "A is slightly better" },
  { key: "4", side: null, strength: "tie", label: "About the same" },
  { key: "5", side: "B", strength: "slightly_better", label: "B is slightly better" },
  { key: "6", side: "B", strength: "better", label: "B is better" },
  { key: "7", side: "B", strength: "much_better", label: "B is much better" },
  { key: "0", side: null, strength: "both_bad", label: "Both are bad" },
];

const MAX_RADIO_STEPS = 11;

/** Labels the labeler sees and types: 1…K, or A/B in pairwise tasks. */
export function labelsFor(kind, ids) {
  const names = kind === "pairwise" ? ["A", "B"] : ids.map((_, index) => String(index + 1));
  return new Map(ids.map((id, index) => [id, names[index]]));
}

export function promptSection(prompt) {
  const turns = Array.isArray(prompt.messages) && prompt.messages.length ? prompt.messages : null;
  const body = turns
    ? h("ol", { class: "chat" }, turns.map((turn) => h("li", { class: `turn turn-${roleClass(turn.role)}` },
      h("span", { class: "role" }, String(turn.role ?? "")),
      richContent(turn.html, contentText(turn.content), { className: "text" }))))
    : richContent(prompt.html, prompt.text, { className: "prompt-text" });
  return h("section", { class: "prompt card", "aria-labelledby": "prompt-title" },
    h("h2", { id: "prompt-title" }, "Prompt"), body);
}

function roleClass(role) {
  return String(role ?? "").toLowerCase().replace(/[^a-z]/g, "") || "other";
}

function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => part?.text ?? "").join("\n");
  return JSON.stringify(content ?? "");
}

/** One completion: its label key, rank badge, sanitized body, ratings and flags. */
export function completionCard(view, completion) {
  const id = completion.id;
  const label = view.labels.get(id);
  return h("article", {
    class: "completion-card", tabindex: 0, data: { id },
    "aria-labelledby": `completion-${id}-title`, "aria-describedby": `completion-${id}-rank`,
  },
  h("header", { class: "card-head" },
    h("kbd", { class: "key", "aria-hidden": "true" }, label),
    h("h3", { id: `completion-${id}-title` }, `Response ${label}`),
    h("span", { class: "rank-badge", id: `completion-${id}-rank` })),
  richContent(completion.html, completion.text, { className: "completion-body" }),
  sourcesSection(completion.passages || [], id, label),
  ratingControls(view.campaign.rating_axes || [], id, label),
  h("footer", { class: "card-foot" },
    flagControls(view.campaign.flag_vocabulary || [], id, label),
    h("button", {
      type: "button", class: "small", data: { action: "edit", id },
      "aria-label": `Edit response ${label} as a better answer`,
    }, "Edit as better answer")));
}

/** The passages a retrieval-augmented policy put into this answer's prompt, best first: plain
 * text (h() makes text nodes), open by default so the labeler can check the answer against them. */
function sourcesSection(passages, id, label) {
  if (!passages.length) return null;
  return h("details", { class: "sources", open: true, data: { id } },
    h("summary", {}, `Sources given to response ${label} (${passages.length})`),
    h("ol", { class: "source-list" }, passages.map((passage) => h("li", { class: "source", data: { passage: passage.id } },
      passage.document ? h("span", { class: "meta source-document" }, passage.document) : null,
      h("p", { class: "source-text" }, passage.text)))));
}

function ratingControls(axes, id, label) {
  if (!axes.length) return null;
  return h("div", { class: "ratings" }, axes.map((axis, index) => {
    const name = `rating-${id}-${index}`;
    const legend = h("legend", {}, axis.name, h("span", { class: "meta" }, ` ${axis.min}–${axis.max}`));
    const steps = axis.max - axis.min + 1;
    const control = steps <= MAX_RADIO_STEPS
      ? Array.from({ length: steps }, (_, step) => h("label", { class: "rating-option" },
        h("input", { type: "radio", name, value: axis.min + step, data: { id, axis: axis.name } }),
        h("span", {}, axis.min + step)))
      : h("input", {
        type: "number", min: axis.min, max: axis.max, step: 1, data: { id, axis: axis.name },
        "aria-label": `${axis.name} of response ${label}`,
      });
    return h("fieldset", { class: "rating", data: { id, axis: axis.name } }, legend, control);
  }));
}

function flagControls(vocabulary, id, label) {
  if (!vocabulary.length) return null;
  return h("div", { class: "flags", role: "group", "aria-label": `Flags for response ${label}` },
    h("span", { class: "meta" }, "Flags:"),
    vocabulary.map((flag, index) => h("button", {
      type: "button", class: "flag", "aria-pressed": "false", data: { action: "flag", id, flag },
    }, h("kbd", { class: "key-hint", "aria-hidden": "true" }, index + 1), flag)));
}

/** The campaign's flags with their keys, for the shortcuts list ("f, then 1: unsafe"). */
export function flagKeysList(vocabulary) {
  if (!vocabulary.length) return "This campaign has no flags.";
  return vocabulary.map((flag, index) => [index ? " · " : "", h("kbd", {}, index + 1), ` ${flag}`]);
}

export function notesSection() {
  return h("section", { class: "notes card", "aria-label": "Rationale and a better answer" },
    h("label", { for: "rationale" }, "Why? ", h("span", { class: "meta" }, "optional · press r")),
    h("textarea", { id: "rationale", rows: 3, maxlength: 10000 }),
    h("label", { for: "better-answer" }, "A better answer ",
      h("span", { class: "meta" }, "optional · w to write one, e to start from the selected response")),
    h("textarea", { id: "better-answer", rows: 8, maxlength: 50000, "aria-describedby": "better-source" }),
    h("p", { id: "better-source", class: "meta" }));
}

const undoButton = () => h("button", {
  type: "button", class: "undo", data: { action: "undo" }, hidden: true,
  title: "Change your answer to the previous task while its lease lasts (u)",
}, "↶ Undo", h("span", { class: "more" }, " last submit"), " ", h("kbd", {}, "u"));

const ACTIONS = (view) => h("div", { class: "actions" },
  h("button", { type: "button", class: "primary", data: { action: "submit" } },
    view.correcting ? "Submit the change " : "Submit ", h("kbd", {}, "Enter")),
  view.correcting ? null : h("button", { type: "button", data: { action: "skip" } }, "Skip… ", h("kbd", {}, "s")),
  undoButton());

/** The side panel: how to answer, the answer so far, errors, submit and skip. */
export function answerPanel(view) {
  const k = view.ids.length;
  const parts = {
    rank: () => [
      h("h2", { id: "answer-title" }, "Your ranking"),
      h("p", { class: "meta" }, `Best first. Press 1–${k} in order of preference, or drag. `,
        h("kbd", {}, "t"), " ties with the rank above, ", h("kbd", {}, "?"), " shows all keys."),
      h("ol", { id: "ranking", class: "ranking", "aria-label": "Ranked, best first" }),
      h("h3", { class: "pool-title" }, "Not ranked yet"),
      h("ul", { id: "pool", class: "pool", "aria-label": "Not ranked yet" }),
    ],
    pairwise: () => [
      h("h2", { id: "answer-title" }, "Which response is better?"),
      h("div", { class: "strengths", role: "group", "aria-labelledby": "answer-title" },
        STRENGTHS.map((s) => h("button", {
          type: "button", class: "strength", "aria-pressed": "false", data: { action: "strength", key: s.key },
        }, h("kbd", {}, s.key), " ", s.label))),
    ],
    rating: () => [
      h("h2", { id: "answer-title" }, "Rate each response"),
      h("p", { class: "meta" }, `Rate all ${k} responses on every axis, then submit.`),
    ],
  };
  return h("section", { class: "answer card", "aria-labelledby": "answer-title" },
    (parts[view.kind] || parts.rating)(),
    h("div", { id: "answer-errors", class: "errors", role: "alert" }),
    ACTIONS(view));
}

/** A draggable chip for the ranking list: the response's beginning, rendered as on its card
 *  (clipped by CSS; inert, so a link in it neither takes focus nor a click from the drag). */
export function rankChip(view, completion) {
  const snippet = richContent(completion.html, completion.text, { className: "snippet" });
  snippet.inert = true;
  return h("li", { class: "chip", data: { id: completion.id } },
    h("span", { class: "drag-handle", "aria-hidden": "true" }, "⠿"),
    h("span", { class: "chip-rank" }),
    h("kbd", {}, view.labels.get(completion.id)),
    snippet,
    h("button", {
      type: "button", class: "tie", "aria-pressed": "false", data: { action: "tie", id: completion.id },
      title: "Tie with the rank above (t)", "aria-label": `Tie response ${view.labels.get(completion.id)} with the rank above`,
    }, "="));
}

export function nothingLeft({ judged, homeUrl }) {
  return h("section", { class: "card nothing-left" },
    h("h2", {}, "Nothing left to label"),
    h("p", {}, judged ? `You judged ${judged} task${judged === 1 ? "" : "s"} in this session. Thank you!`
      : "There are no tasks for you right now."),
    h("p", {}, "New tasks show up on your labeling home when a lead adds them."),
    h("p", {}, h("a", { class: "button primary", href: homeUrl }, "Back to your campaigns"), " ", undoButton()));
}

/** Guidelines HTML → sanitized nodes (or a note when there are none). */
export function guidelinesContent(campaign) {
  if (!campaign.guidelines_html) return h("p", { class: "empty" }, "This campaign has no guidelines.");
  return richContent(campaign.guidelines_html);
}
