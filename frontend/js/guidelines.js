// The guidelines editor: a preview rendered by the server with the labeling page's renderer
// (markdown-it + nh3, POST …/guidelines/preview/) and shown through lib/content.js's sanitiser,
// exactly as the labeling page shows guidelines.
import { request, NetworkError } from "./lib/api.js";
import { richContent } from "./lib/content.js";
import { fill, h } from "./lib/el.js";

const form = document.querySelector("form.guidelines-editor");
const text = document.querySelector("#guidelines-text");
const preview = document.querySelector("#guidelines-preview");
const state = document.querySelector("#preview-state");
const DELAY_MS = 300;
let timer = null;
let latest = 0;

async function render() {
  const ticket = ++latest;
  state.textContent = "rendering…";
  try {
    const { status, data } = await request("POST", form.dataset.previewUrl, { text: text.value });
    if (ticket !== latest) return; // a newer edit is on its way
    if (status === 200) {
      fill(preview, text.value.trim() ? richContent(data.html) : h("p", { class: "empty" }, "No guidelines."));
      state.textContent = "as labelers see it";
    } else {
      state.textContent = data?.errors?.[0]?.message || data?.detail || `the preview failed (${status})`;
    }
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    if (ticket === latest) state.textContent = `no preview: ${error.message}`;
  }
}

text.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(render, DELAY_MS);
});
render();
