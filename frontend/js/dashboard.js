// The live campaign dashboard: a WebSocket to /ws/campaigns/<slug>/dashboard/?period=…
// The server computes the figures once per campaign and interval for every watcher and sends
// {type: "counts", progress, per_hour, labelers, gold} (every few seconds while judgments
// come in) and {type: "quality", period, agreement, alarms} (less often: it costs more); on
// connect the latest of each; also {type: "labeler.paused" | "labeler.reinstated", labeler,
// reason, …} when gold scoring pauses or a lead reinstates someone. Reconnects with backoff. Labeler names are untrusted text: they
// are set with textContent or drawn on canvas. Chart.js comes from npm (see run.js).
import "../vendor/chart.js/chart.umd.min.js";

const Chart = globalThis.Chart;
const BLUE = "#3b6fd8";
const ORANGE = "#d8663b";
const RED = "#c0392b";

class Dashboard {
  constructor(root) {
    this.root = root;
    this.counts = null;
    this.quality = null;
    this.charts = {
      per_hour: this.chart("per_hour", "bar", [{ label: "judgments", backgroundColor: BLUE }], { y: { beginAtZero: true, ticks: { precision: 0 } } }),
      agreement: this.chart("agreement", "line", [
        { label: "α (ordinal)", borderColor: BLUE, backgroundColor: BLUE },
        { label: "pairwise agreement", borderColor: ORANGE, backgroundColor: ORANGE },
      ], { y: { suggestedMin: 0, suggestedMax: 1 } }),
      labelers: this.chart("labelers", "bar", [{ label: "judgments", backgroundColor: [] }], { y: { beginAtZero: true, ticks: { precision: 0 } } }),
    };
  }

  chart(name, type, datasets, scales) {
    const canvas = this.root.querySelector(`[data-chart="${name}"]`);
    return new Chart(canvas, {
      type,
      data: { labels: [], datasets: datasets.map((d) => ({ ...d, data: [] })) },
      options: {
        animation: false, maintainAspectRatio: false, spanGaps: true, scales,
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
      },
    });
  }

  field(name) { return this.root.ownerDocument.querySelector(`[data-field="${name}"]`); }

  set(name, value) {
    const el = this.field(name);
    if (el) el.textContent = value === null || value === undefined ? "—" : String(value);
  }

  handle(message) {
    if (message.type === "counts") { this.counts = message; this.drawCounts(); }
    else if (message.type === "quality") { this.quality = message; this.drawQuality(); }
    else if (message.type === "labeler.paused" || message.type === "labeler.reinstated") { this.notice(message); return; }
    else return;
    this.drawLabelers();
  }

  notice(message) {
    const el = this.field("notice");
    const what = message.type === "labeler.paused" ? "was paused" : "was reinstated";
    el.textContent = `${message.labeler} ${what}${message.reason ? `: ${message.reason}` : ""} (${new Date().toLocaleTimeString()})`;
    el.hidden = false;
  }

  drawCounts() {
    const { progress, per_hour: perHour } = this.counts;
    for (const [name, value] of Object.entries(progress)) this.set(name, value);
    const bar = this.root.querySelector("progress");
    bar.max = Math.max(1, progress.tasks_total);
    bar.value = progress.tasks_done;
    this.set("last_hour", perHour.length ? perHour[perHour.length - 1].judgments : 0);
    const chart = this.charts.per_hour;
    chart.data.labels = perHour.map((h) => hourLabel(h.start));
    chart.data.datasets[0].data = perHour.map((h) => h.judgments);
    chart.update("none");
  }

  drawQuality() {
    const { agreement, period } = this.quality;
    const c = agreement.campaign;
    this.set("alpha", fixed(c.alpha));
    this.set("agreement", fixed(c.agreement));
    this.set("tau_b", fixed(c.tau_b));
    this.set("overlap_tasks", c.tasks);
    this.set("quality_at", `as of ${new Date().toLocaleTimeString()}`);
    const chart = this.charts.agreement;
    chart.data.labels = agreement.periods.map((p) => (period === "hour" ? hourLabel(p.start) : p.start.slice(0, 10)));
    chart.data.datasets[0].data = agreement.periods.map((p) => p.alpha);
    chart.data.datasets[1].data = agreement.periods.map((p) => p.agreement);
    chart.update("none");
  }

  drawLabelers() {
    const names = new Set();
    const activity = new Map((this.counts ? this.counts.labelers : []).map((e) => [e.labeler, e]));
    const gold = this.counts ? this.counts.gold : { scored: false, labelers: {} };
    const agreement = this.quality ? this.quality.agreement.labelers : {};
    const alarms = this.quality ? this.quality.alarms.labelers : {};
    for (const name of [...activity.keys(), ...Object.keys(agreement), ...Object.keys(alarms)]) names.add(name);
    const sorted = [...names].sort();
    const doc = this.root.ownerDocument;
    const heading = doc.querySelector("[data-gold-heading]");
    heading.textContent = gold.scored ? "Gold accuracy" : "Gold answers";
    const rows = sorted.map((name) => {
      const tr = doc.createElement("tr");
      tr.dataset.labeler = name;
      const raised = alarms[name] ? alarms[name].raised : [];
      if (raised.length) tr.className = "flagged";
      const mine = activity.get(name) || { judgments: 0, last_hour: 0 };
      const agree = agreement[name];
      const cells = [
        ["labeler", name], ["judgments", mine.judgments], ["last_hour", mine.last_hour],
        ["gold", goldText(gold, name)],
        ["agreement", agree ? fixed(agree.vs_others.agreement) : "—"],
        ["tau_b_majority", agree ? fixed(agree.vs_majority.tau_b) : "—"],
        ["alarms", this.quality ? (raised.length ? raised.join(", ").replaceAll("_", "-") : "none") : "…"],
      ];
      for (const [key, value] of cells) {
        const td = doc.createElement(key === "labeler" ? "th" : "td");
        td.dataset.col = key;
        td.textContent = value === null || value === undefined ? "—" : String(value);
        tr.append(td);
      }
      return tr;
    });
    const body = this.root.querySelector("#labeler-table tbody");
    if (!rows.length) {
      const tr = doc.createElement("tr");
      const td = doc.createElement("td");
      td.colSpan = 7;
      td.className = "empty";
      td.textContent = "No labelers yet.";
      tr.append(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
    this.set("raised", this.quality ? Object.values(alarms).filter((a) => a.raised.length).length : "…");
    const chart = this.charts.labelers;
    chart.data.labels = sorted;
    chart.data.datasets[0].data = sorted.map((n) => (activity.get(n) || { judgments: 0 }).judgments);
    chart.data.datasets[0].backgroundColor = sorted.map((n) => (alarms[n] && alarms[n].raised.length ? RED : BLUE));
    chart.update("none");
  }
}

function goldText(gold, name) {
  const entry = gold.labelers[name];
  if (!gold.scored) return entry ? entry.answers : 0; // gold answers, not scored
  if (!entry || !entry.answers) return "—";
  const text = `${fixed(entry.accuracy, 2)} [${fixed(entry.low, 2)}, ${fixed(entry.high, 2)}] of ${entry.answers}`;
  return entry.paused ? `${text} · paused` : text;
}

function fixed(x, digits = 3) { return x === null || x === undefined ? "—" : Number(x).toFixed(digits); }

function hourLabel(iso) { return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`; }

function connect(root, page, delay) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const period = root.ownerDocument.querySelector("[data-period]").value;
  const socket = new WebSocket(`${scheme}://${location.host}${root.dataset.dashboardWs}?period=${encodeURIComponent(period)}`);
  const status = page.field("status");
  page.socket = socket;
  socket.addEventListener("open", () => { status.textContent = "live"; delay = 1000; });
  socket.addEventListener("message", (event) => page.handle(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    if (page.socket !== socket) return; // replaced (another period)
    if (event.code >= 4400 && event.code < 4500) { status.textContent = "not allowed"; return; }
    status.textContent = "reconnecting…";
    setTimeout(() => connect(root, page, Math.min(delay * 2, 30000)), delay);
  });
}

const root = document.querySelector("[data-dashboard-ws]");
if (root) {
  const page = new Dashboard(root);
  connect(root, page, 1000);
  document.querySelector("[data-period]").addEventListener("change", (event) => {
    const url = new URL(location.href);
    url.searchParams.set("period", event.target.value);
    history.replaceState(null, "", url);
    const old = page.socket;
    page.socket = null;
    old.close();
    connect(root, page, 1000);
  });
}
