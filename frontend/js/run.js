// The Run page: live state, progress, log and curves over the run's WebSocket (/ws/runs/<id>/).
// The server sends {type: "snapshot", state…, metrics: [...]} on connect, then
// {type: "metrics", metrics: [...]} as the trainer logs and {type: "state", …} on changes
// (progress and the output tail included). When the run has ended, the page asks the server
// for its results again (the [data-results] region, through follow.js), so the summary,
// what it produced and its files appear without a reload; later state events (the loop's step
// noting what became of a new version) refresh them too.
// Chart.js comes from npm (frontend/package.json); its UMD build sets globalThis.Chart when
// loaded as a module (the ES build imports a bare "@kurkle/color" a browser cannot resolve).
// Log text and metric names are untrusted: they are set with textContent or drawn on canvas.
import "../vendor/chart.js/chart.umd.min.js";

const Chart = globalThis.Chart;
const FINAL = new Set(["succeeded", "failed", "cancelled"]);
const SKIP = new Set(["step", "epoch", "elapsed_s"]);
// A metric's chart is the first group whose test matches its name, so each chart holds one kind
// of quantity: timings come first, so "timing/score_s" never lands on the reward chart. Main
// groups are shown at once, the others under "More metrics"; a name no group takes gets a chart
// of its own there.
const GROUPS = [
  { title: "Time (s)", main: false, test: (k) => /^timing\/|_runtime$/.test(k) },
  { title: "Throughput", main: false, test: (k) => /per_second$|_per_s$/.test(k) },
  { title: "Learning rate", main: false, test: (k) => /(^|\/)(lr|learning_rate)$/.test(k) },
  { title: "KL coefficient", main: true, test: (k) => k === "kl_coef" },
  { title: "KL", main: true, test: (k) => /(^|[/_])kl([/_]|$)|approxkl/i.test(k) },
  { title: "Accuracy", main: true, test: (k) => /accurac/i.test(k) },
  { title: "Loss", main: true, test: (k) => /loss/i.test(k) },
  { title: "Reward", main: true, test: (k) => /reward|score|margin/i.test(k) },
  { title: "Entropy", main: false, test: (k) => /entropy/i.test(k) },
  { title: "Clip fraction", main: false, test: (k) => /clipfrac/i.test(k) },
  { title: "Answer length (tokens)", main: false, test: (k) => /length/i.test(k) },
];
const COLORS = ["#3b6fd8", "#d8663b", "#2f9e6e", "#9b59b6", "#c0392b", "#7f8c8d", "#d4a017", "#16a085"];

export function groupOf(key) {
  return GROUPS.find((g) => g.test(key)) || { title: key, main: false };
}

function connect(url, page, delay) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${url}`);
  socket.addEventListener("open", () => { page.live("live"); delay = 1000; });
  socket.addEventListener("message", (event) => page.handle(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    if (event.code >= 4400 && event.code < 4500) { page.live("not allowed"); return; }
    page.live("reconnecting…");
    setTimeout(() => connect(url, page, Math.min(delay * 2, 30000)), delay);
  });
}

class RunPage {
  constructor(doc, root) {
    this.doc = doc;
    this.root = root;
    this.loadedFinal = FINAL.has(root.querySelector("[data-field=state]").textContent.trim());
    this.finished = this.loadedFinal;
    this.messages = 0;
    this.lastId = 0;
    this.charts = new Map(); // chart title -> Chart
    this.series = new Map(); // "<run id or ''>:<metric key>" -> dataset
    this.compareId = "";
    this.compareRows = [];
  }

  field(name) { return this.doc.querySelector(`[data-field="${name}"]`); }

  live(text) {
    const badge = this.field("live");
    badge.textContent = text;
    badge.hidden = this.finished && text !== "not allowed"; // "live" means the run can still change
  }

  handle(message) {
    if (message.type === "metrics") {
      this.addMetrics(message.metrics);
      return;
    }
    if (message.type !== "snapshot" && message.type !== "state") return;
    if (message.type === "snapshot") {
      this.reset();
      this.addMetrics(message.metrics);
      if (this.compareId) this.overlay(this.compareId, this.compareRows);
    }
    this.setState(message);
    // The results region is rendered by the server: ask for it again once the run has ended,
    // and on every later change, but not for the first message to a page that was rendered
    // after the end (it has them already).
    if (this.finished && !(this.loadedFinal && this.messages === 0)) this.refreshResults();
    this.messages += 1;
  }

  setState(s) {
    this.finished = FINAL.has(s.state);
    const badge = this.field("state");
    badge.textContent = s.state;
    badge.className = `badge run-${s.state}`;
    for (const name of ["started_at", "finished_at"]) {
      if (s[name]) this.field(name).textContent = new Date(s[name]).toLocaleString();
    }
    this.field("exit_code").textContent = s.exit_code ?? "—";
    this.field("flagged").hidden = !s.flagged;
    const error = this.field("error");
    error.textContent = s.error || "";
    error.hidden = !s.error;
    this.showLog(s.error_tail || "");
    this.showProgress(s);
    const cancel = this.doc.querySelector("form[data-cancel]");
    if (cancel) cancel.hidden = this.finished || s.cancel_requested;
    this.field("cancel-requested").hidden = this.finished || !s.cancel_requested;
    this.live(this.field("live").textContent);
    if (this.finished && this.charts.size === 0) {
      const curves = this.field("curves");
      if (curves) curves.hidden = true; // the run ended without logging a step: nothing to draw
    }
  }

  showLog(text) {
    const log = this.field("error_tail");
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = text;
    log.hidden = text === "";
    if (atBottom) log.scrollTop = log.scrollHeight;
    const none = this.field("no-log");
    none.hidden = text !== "";
    if (!text) none.textContent = this.finished ? "The trainer wrote nothing." : "Nothing yet.";
  }

  showProgress(s) {
    const box = this.field("progress");
    box.hidden = this.finished;
    this.field("progress-text").textContent = s.progress_text || "";
    const bar = this.field("progress-bar");
    if (typeof s.progress_share === "number") bar.value = s.progress_share;
    else bar.removeAttribute("value"); // indeterminate: not known yet
  }

  refreshResults() {
    const region = this.doc.querySelector("[data-results]");
    if (region) region.dispatchEvent(new CustomEvent("follow:refresh"));
  }

  reset() {
    for (const chart of this.charts.values()) chart.destroy();
    this.charts.clear();
    this.series.clear();
    this.lastId = 0;
    for (const box of this.doc.querySelectorAll("[data-charts] figure, [data-more-charts] figure")) box.remove();
  }

  addMetrics(rows) {
    if (!this.doc.querySelector("[data-charts]")) return; // a kind that draws no curves
    const touched = new Set();
    for (const row of rows || []) {
      if (row.id <= this.lastId) continue; // already drawn (a snapshot after a reconnect)
      this.lastId = row.id;
      this.addRow(row, "", touched);
    }
    for (const title of touched) this.charts.get(title).update("none");
    const empty = this.field("no-metrics");
    if (empty) empty.hidden = this.charts.size > 0;
  }

  addRow(row, runId, touched) {
    for (const [key, value] of Object.entries(row.values || {})) {
      if (SKIP.has(key) || typeof value !== "number" || !Number.isFinite(value)) continue;
      this.dataset(key, runId).data.push({ x: row.step, y: value });
      touched.add(groupOf(key).title);
    }
  }

  dataset(key, runId) {
    const id = `${runId}:${key}`;
    let dataset = this.series.get(id);
    if (dataset) return dataset;
    const group = groupOf(key);
    const chart = this.charts.get(group.title) || this.chart(group.title, group.main);
    const own = this.series.get(`:${key}`);
    const color = own ? own.borderColor : COLORS[chart.data.datasets.length % COLORS.length];
    dataset = {
      label: runId ? `#${runId} ${key}` : key, data: [], borderColor: color, backgroundColor: color,
      pointRadius: 0, borderWidth: 1.5, borderDash: runId ? [5, 4] : [],
    };
    chart.data.datasets.push(dataset);
    this.series.set(id, dataset);
    return dataset;
  }

  chart(title, main) {
    const figure = this.doc.createElement("figure");
    figure.dataset.chart = title;
    const caption = this.doc.createElement("figcaption");
    caption.textContent = title;
    const box = this.doc.createElement("div");
    box.className = "chart-box";
    const canvas = this.doc.createElement("canvas");
    box.append(canvas);
    figure.append(caption, box);
    this.doc.querySelector(main ? "[data-charts]" : "[data-more-charts]").append(figure);
    const chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [] },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        maintainAspectRatio: false,
        interaction: { mode: "nearest", intersect: false },
        scales: { x: { type: "linear", title: { display: true, text: "step" }, ticks: { precision: 0 } } },
        plugins: { legend: { display: true, position: "bottom" } },
      },
    });
    this.charts.set(title, chart);
    return chart;
  }

  // Another run's curves on the same charts (dashed, in the colour of the same metric here).
  async compare(runId) {
    this.removeOverlay();
    this.compareId = runId;
    this.compareRows = [];
    const note = this.field("compare-note");
    if (note) note.textContent = "";
    if (!runId) return;
    const response = await fetch(`${this.root.dataset.metricsUrl}${runId}/metrics/`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      if (note) note.textContent = `Could not read run ${runId}'s curves (${response.status}).`;
      return;
    }
    if (this.compareId !== runId) return; // another choice meanwhile
    this.compareRows = await response.json();
    this.overlay(runId, this.compareRows);
  }

  overlay(runId, rows) {
    const touched = new Set();
    for (const row of rows) this.addRow(row, runId, touched);
    for (const title of touched) this.charts.get(title).update("none");
    const empty = this.field("no-metrics");
    if (empty) empty.hidden = this.charts.size > 0;
  }

  removeOverlay() {
    for (const [id, dataset] of [...this.series]) {
      if (id.startsWith(":")) continue;
      this.series.delete(id);
      for (const [title, chart] of this.charts) {
        chart.data.datasets = chart.data.datasets.filter((d) => d !== dataset);
        if (chart.data.datasets.length === 0) {
          chart.destroy();
          this.charts.delete(title);
          this.doc.querySelector(`figure[data-chart="${CSS.escape(title)}"]`)?.remove();
        } else {
          chart.update("none");
        }
      }
    }
  }
}

const root = document.querySelector("[data-run-ws]");
if (root) {
  const page = new RunPage(document, root);
  const select = document.querySelector("[data-compare]");
  if (select) select.addEventListener("change", () => page.compare(select.value));
  connect(root.dataset.runWs, page, 1000);
}
