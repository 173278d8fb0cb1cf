// The runs page's "start a run" forms (training/run_list.html), server-rendered one per run
// kind and working without this module. With it:
//   - choosing another policy shows that policy's compute estimate (data-plan on its <option>:
//     size, LoRA training and sampling memory, compute-optimal tokens; trainer.plan's figures);
//   - a Kind select shows one kind's form at a time (the others are hidden, not removed);
//   - choosing another policy puts that policy's defaults (its prompt template, for generate
//     and evaluate its sampling settings: data-defaults on its <option>) into the fields that
//     still show the previous policy's, and the kind's own default (data-default) back where
//     the new policy sets none; what the user typed stays.
// Values are checked by the server only (the trainer's own rules): errors come back next to
// their fields, and nothing is queued until every field is accepted.

function showKind(section, name) {
  for (const details of section.querySelectorAll("details[data-run-kind]")) {
    const mine = details.dataset.runKind === name;
    details.hidden = !mine;
    details.open = mine;
  }
}

function valueOf(input) {
  return input.type === "checkbox" ? String(input.checked) : input.value;
}

function setValue(input, text) {
  if (input.type === "checkbox") input.checked = text === "true";
  else input.value = text;
}

function defaultsOf(select) {
  try {
    return JSON.parse(select.selectedOptions[0]?.dataset.defaults || "{}");
  } catch {
    return {};
  }
}

// A field that still shows the previous policy's default (or the kind's, where that policy
// set none) takes the new policy's (or the kind's); a field the user changed is left alone.
function followPolicy(form, before, after) {
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const input = form.querySelector(`[name="config.${name}"][data-default]`);
    if (!input) continue;
    const shown = name in before ? before[name] : input.dataset.default;
    if (valueOf(input) === shown) setValue(input, name in after ? after[name] : input.dataset.default);
  }
}

// The estimate under the policy select follows the chosen policy (text only: no HTML from data).
function showPlan(select) {
  const box = select.closest(".config-field")?.querySelector("[data-plan-estimate]");
  if (!box) return;
  let plan = {};
  try {
    plan = JSON.parse(select.selectedOptions[0]?.dataset.plan || "{}");
  } catch {
    plan = {};
  }
  box.querySelector("[data-plan-text]").textContent = plan.text || `none — ${plan.unavailable || "no policy"}`;
  const link = box.querySelector("[data-plan-link]");
  link.hidden = !plan.link;
  if (plan.link) link.search = plan.link;
}

function enhance(section) {
  const picker = section.querySelector("[data-run-kind-picker]");
  if (picker) {
    picker.closest("label").hidden = false;
    showKind(section, picker.value);
    picker.addEventListener("change", () => showKind(section, picker.value));
  }
  for (const form of section.querySelectorAll("form.run-form")) {
    const policy = form.querySelector("[data-policy-select]");
    if (!policy) continue;
    let before = defaultsOf(policy);
    policy.addEventListener("change", () => {
      const after = defaultsOf(policy);
      followPolicy(form, before, after);
      before = after;
      showPlan(policy);
    });
  }
}

const section = document.querySelector("section.run-start");
if (section) enhance(section);
