// Live campaign progress on the campaign page: a WebSocket to the campaign's group.
// The server sends {type: "progress", tasks_total, tasks_done, tasks_started, tasks_open,
// in_progress, judgments, judgments_needed} on connect and
// while judgments come in (at most about one per LABELHUB_PROGRESS_INTERVAL, and once more
// after the last). Reconnects with backoff; numbers are set with textContent. Leads and
// reviewers also get {type: "labeler.paused" | "labeler.reinstated", labeler, reason, …}.

const root = document.querySelector("[data-progress-ws]");
if (root) connect(root, 1000);

function connect(el, delay) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${el.dataset.progressWs}`);
  const status = el.querySelector("[data-field=status]");
  socket.addEventListener("open", () => { status.textContent = "live"; delay = 1000; });
  socket.addEventListener("message", (event) => render(el, JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    if (event.code >= 4400 && event.code < 4500) { status.textContent = "not allowed"; return; }
    status.textContent = "reconnecting…";
    setTimeout(() => connect(el, Math.min(delay * 2, 30000)), delay);
  });
}

function render(el, data) {
  if (data.type === "labeler.paused" || data.type === "labeler.reinstated") {
    standingChanged(el, data);
    return;
  }
  if (data.type !== "progress") return;
  for (const name of ["tasks_total", "tasks_done", "tasks_started", "tasks_open", "in_progress", "judgments", "judgments_needed"]) {
    const field = el.querySelector(`[data-field=${name}]`);
    if (field) field.textContent = String(data[name]);
  }
  const bar = el.querySelector("progress");
  if (bar) { bar.max = Math.max(1, data.tasks_total); bar.value = data.tasks_done; }
}

// A labeler was paused or reinstated (sent to leads and reviewers only): a line at the top of
// the list, as text (a labeler's name and the reason are not HTML).
function standingChanged(el, data) {
  const list = el.querySelector("[data-field=pauses]");
  if (!list) return;
  const item = document.createElement("li");
  item.className = data.type === "labeler.paused" ? "message warning" : "message success";
  item.dataset.labeler = data.labeler;
  item.textContent = data.type === "labeler.paused"
    ? `${data.labeler} was paused${data.automatic ? " automatically" : ""}: ${data.reason} Reload to reinstate them.`
    : `${data.labeler} was reinstated by ${data.by}.`;
  list.prepend(item);
}
