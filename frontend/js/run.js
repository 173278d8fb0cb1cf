// The Run page: live curves, state and log tail over the run's WebSocket (/ws/runs/<id>/).
// The server sends {type: "snapshot", state…, metrics: [...]} on connect, then
// {type: "metrics", metrics: [...]} as the trainer logs and {type: "state", …} on changes.
// Chart.js comes from npm (frontend/package.json); its UMD build sets globalThis.Chart when
// loaded as a module (the ES build imports a bare "@kurkle/color" a browser cannot resolve).
// Log text and metric names are untrusted: they are set with textContent or drawn on canvas.
import "../vendor/chart.js/chart.umd.min.js";

const Chart = globalThis.Chart;
const FINAL = new Set(["succeeded", "failed", "cancelled"]);
const SKIP = new Set(["step", "epoch", "elapsed_s"]);
const GROUPS = [
  ["Loss", (k) => /loss/i.test(k)],
  ["Accuracy", (k) => /accurac/i.test(k)],
  ["KL coefficient", (k) => k === "kl_coef"],
  ["KL", (k) => /(^|[/_])kl([/_]|$)|approxkl/i.test(k)],
  ["Reward", (k) => /reward|score|margin/i.test(k)],
];
const COLORS = ["#3b6fd8", "#d8663b", "#2f9e6e", "#9b59b6", "#c0392b", "#7f8c8d", "#d4a017", "#16a085"];

function connect(url, page, delay) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${url}`);
  socket.addEventListener("open", () => { page.live("live"); delay = 1000; });
  socket.addEventListener("message", (event) => page.handle(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    if (event.code >= 4400 && event.code < 4500) { page.live("not allowed"); return; }
    if (page.finished) { page.live("ended"); return; }
    page.live("reconnecting…");
    setTimeout(() => connect(url, page, Math.min(delay * 2, 30000)), delay);
  });
}

class RunPage {
  constructor(doc, initialState) {
    this.doc = doc;
    this.initialState = initialState;
    this.finished = FINAL.has(initialState);
    this.lastId = 0;
    this.charts = new Map(); // chart title -> Chart
    this.series = new Map(); // metric key -> dataset
  }

  field(name) { return this.doc.querySelector(`[data-field="${name}"]`); }

  live(text) { this.field("live").textContent = text; }

  handle(message) {
    if (message.type === "snapshot") {
      this.reset();
      this.setState(message);
      this.addMetrics(message.metrics);
    } else if (message.type === "metrics") {
      this.addMetrics(message.metrics);
    } else if (message.type === "state") {
      this.setState(message);
    }
  }

  setState(s) {
    const badge = this.field("state");
    badge.textContent = s.state;
    badge.className = `badge run-${s.state}`;
    for (const name of ["started_at", "finished_at"]) {
      if (s[name]) this.field(name).textContent = new Date(s[name]).toLocaleString();
    }
    this.field("exit_code").textContent = s.exit_code ?? "—";
    const error = this.field("error");
    error.textContent = s.error || "";
    error.hidden = !s.error;
    const log = this.field("error_tail");
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = s.error_tail || "";
    if (atBottom) log.scrollTop = log.scrollHeight;
    this.finished = FINAL.has(s.state);
    const cancel = this.doc.querySelector("form[data-cancel]");
    if (cancel) cancel.hidden = this.finished || s.cancel_requested;
    if (this.finished && s.state !== this.initialState) this.field("refresh").hidden = false;
    if (s.guards) this.showGuards(s.guards);
  }

  // The guards of a finished PPO/DPO/RLOO run, as training/_guards.html renders them (the page
  // has them already when it was loaded after the run ended).
  showGuards(g) {
    const body = this.field("guard-body");
    if (!body || body.childElementCount > 0) return;
    const el = (tag, text, cls) => {
      const node = this.doc.createElement(tag);
      if (text !== undefined) node.textContent = text;
      if (cls) node.className = cls;
      return node;
    };
    const num = (v, digits) => (typeof v === "number" ? v.toFixed(digits) : "—");
    const pct = (v) => (typeof v === "number" ? `${Math.round(v * 100)}%` : "—");
    const table = el("table", undefined, "list guard-figures");
    const head = el("tr");
    head.append(el("th"), el("th", "Policy"), el("th", "Base"));
    table.append(el("thead"));
    table.tHead.append(head);
    const rows = [
      ["Words per answer", num(g.policy?.length_words, 1), num(g.base?.length_words, 1)],
      ["Words in the base's vocabulary", pct(g.policy?.in_vocab), pct(g.base?.in_vocab)],
      ["Distinct-2", num(g.policy?.distinct_2, 3), num(g.base?.distinct_2, 3)],
      ["KL to the base (nats per answer)", num(g.kl, 2), g.kl_target == null ? "no target" : `target ${g.kl_target}`],
    ];
    const tbody = el("tbody");
    for (const [label, policy, base] of rows) {
      const tr = el("tr");
      tr.append(el("th", label), el("td", policy), el("td", base));
      tbody.append(tr);
    }
    table.append(tbody);
    const checks = el("ul", undefined, "plain guard-checks");
    for (const c of g.checks || []) {
      const li = el("li", undefined, `guard-${c.name}`);
      const limit = c.limit == null ? " (reported, no limit)" : ` (limit ${num(c.limit, 3)})`;
      li.append(el("span", c.ok ? "ok" : "failed", `badge ${c.ok ? "guard-ok" : "guard-flagged"}`), " ",
        el("strong", c.name), `: ${c.ok ? num(c.value, 3) + limit : c.reason}`);
      checks.append(li);
    }
    body.append(table, checks);
    this.field("guard-prompts").textContent = g.prompts;
    this.field("guards").hidden = false;
    const reasons = this.field("guard-reasons");
    reasons.replaceChildren(...(g.flagged ? g.reasons || [] : []).map((r) => el("li", r)));
    this.field("guard-warning").hidden = !g.flagged;
  }

  reset() {
    for (const chart of this.charts.values()) chart.destroy();
    this.charts.clear();
    this.series.clear();
    this.lastId = 0;
    for (const box of this.doc.querySelectorAll("[data-charts] figure, [data-more-charts] figure")) box.remove();
  }

  addMetrics(rows) {
    const touched = new Set();
    for (const row of rows || []) {
      if (row.id <= this.lastId) continue; // already drawn (a snapshot after a reconnect)
      this.lastId = row.id;
      for (const [key, value] of Object.entries(row.values || {})) {
        if (SKIP.has(key) || typeof value !== "number" || !Number.isFinite(value)) continue;
        this.dataset(key).data.push({ x: row.step, y: value });
        touched.add(this.titleOf(key));
      }
    }
    for (const title of touched) this.charts.get(title).update("none");
    const empty = this.field("no-metrics");
    if (empty) empty.hidden = this.charts.size > 0;
  }

  titleOf(key) {
    const group = GROUPS.find(([, test]) => test(key));
    return group ? group[0] : key;
  }

  dataset(key) {
    let dataset = this.series.get(key);
    if (dataset) return dataset;
    const title = this.titleOf(key);
    const chart = this.charts.get(title) || this.chart(title, GROUPS.some(([t]) => t === title));
    const color = COLORS[chart.data.datasets.length % COLORS.length];
    dataset = { label: key, data: [], borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 1.5 };
    chart.data.datasets.push(dataset);
    this.series.set(key, dataset);
    return dataset;
  }

  chart(title, main) {
    const figure = this.doc.createElement("figure");
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
        scales: { x: { type: "linear", title: { display: true, text: "step" } } },
        plugins: { legend: { display: true, position: "bottom" } },
      },
    });
    this.charts.set(title, chart);
    return chart;
  }
}

const root = document.querySelector("[data-run-ws]");
if (root) {
  const page = new RunPage(document, root.querySelector("[data-field=state]").textContent.trim());
  connect(root.dataset.runWs, page, 1000);
}
