// Live campaign progress on the campaign page: a WebSocket to the campaign's group.
// The server sends {type: "progress", tasks_total, tasks_done, tasks_started, tasks_open,
// in_progress, judgments, judgments_needed} on connect and
// while judgments come in (at most about one per LABELHUB_PROGRESS_INTERVAL, and once more
// after the last). Reconnects with backoff; numbers are set with textContent.

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
  if (data.type !== "progress") return;
  for (const name of ["tasks_total", "tasks_done", "tasks_started", "tasks_open", "in_progress", "judgments", "judgments_needed"]) {
    const field = el.querySelector(`[data-field=${name}]`);
    if (field) field.textContent = String(data[name]);
  }
  const bar = el.querySelector("progress");
  if (bar) { bar.max = Math.max(1, data.tasks_total); bar.value = data.tasks_done; }
}
