// A large import's page: follows the import's API record while its job runs (state, lines
// checked of lines in the file) and reloads the page once the import has ended, so the
// server shows what was written or the errors. Numbers and text are set with textContent.
import { NetworkError, request } from "./lib/api.js";

const POLL_MS = 1000;
const FINAL = new Set(["succeeded", "rejected", "failed"]);
const LABELS = { queued: "Queued", checking: "Checking lines", writing: "Writing" };

const root = document.querySelector("[data-import-api]");
if (root) follow(root);

async function follow(el) {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    let answer;
    try {
      answer = await request("GET", el.dataset.importApi);
    } catch (error) {
      if (error instanceof NetworkError) continue; // the server will answer again
      throw error;
    }
    if (answer.status !== 200) return; // signed out, or the import is gone: leave the page as it is
    const data = answer.data;
    if (FINAL.has(data.state)) {
      location.reload();
      return;
    }
    render(el, data);
  }
}

function render(el, data) {
  el.dataset.state = data.state;
  el.querySelector("[data-field=state]").textContent = LABELS[data.state] || data.state;
  el.querySelector("[data-field=lines_checked]").textContent = String(data.lines_checked);
  el.querySelector("[data-field=lines_total]").textContent = String(data.lines_total);
  const bar = el.querySelector("progress");
  bar.max = Math.max(1, data.lines_total);
  bar.value = data.lines_checked;
}
