// The runs page's "start a run" forms (training/run_list.html), server-rendered one per run
// kind and working without this module. With it:
//   - a Kind select shows one kind's form at a time (the others are hidden, not removed);
//   - choosing another policy puts that policy's defaults (its prompt template, for generate
//     and evaluate its sampling settings: data-defaults on its <option>) into the fields the
//     user has not edited, and the kind's own default (data-default) back into the others.
// Values are checked by the server only (the trainer's own rules): errors come back next to
// their fields, and nothing is queued until every field is accepted.

function showKind(section, name) {
  for (const details of section.querySelectorAll("details[data-run-kind]")) {
    const mine = details.dataset.runKind === name;
    details.hidden = !mine;
    details.open = mine;
  }
}

function setValue(input, text) {
  if (input.type === "checkbox") input.checked = text === "true";
  else input.value = text;
}

function followPolicy(form, select) {
  const option = select.selectedOptions[0];
  let defaults = {};
  try {
    defaults = JSON.parse(option?.dataset.defaults || "{}");
  } catch {
    defaults = {};
  }
  for (const input of form.querySelectorAll("[name^='config.'][data-default]")) {
    if (input.dataset.edited) continue;
    const name = input.name.slice("config.".length);
    setValue(input, name in defaults ? defaults[name] : input.dataset.default);
  }
}

function enhance(section) {
  const picker = section.querySelector("[data-run-kind-picker]");
  if (picker) {
    picker.closest("label").hidden = false;
    showKind(section, picker.value);
    picker.addEventListener("change", () => showKind(section, picker.value));
  }
  for (const form of section.querySelectorAll("form.run-form")) {
    form.addEventListener("input", (event) => {
      if (event.target.name?.startsWith("config.")) event.target.dataset.edited = "1";
    });
    const policy = form.querySelector("[data-policy-select]");
    if (policy) policy.addEventListener("change", () => followPolicy(form, policy));
  }
}

const section = document.querySelector("section.run-start");
if (section) enhance(section);
