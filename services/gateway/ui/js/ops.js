// The operations console: behind SHOP_ADMIN_TOKEN (entered here, kept in sessionStorage so it dies
// with the tab), a live view of every stream and consumer group refreshed every 2 s with charts of
// lag and throughput over the last 5 minutes, each service's health, and the tools of ops-views.js.

import { api, describe, ApiError } from "./api.js";
import { field, h, mount, notify, clearMessages } from "./dom.js";
import { lineChart } from "./chart.js";
import { deadLettersSection, rebuildSection, timelineSection } from "./ops-views.js";

const REFRESH_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000;
const TOKEN = "shop.adminToken";

/** The API as the operator: the admin token on every call; a refused token asks for another. */
export async function ops(path, options = {}) {
  try {
    return await api(path, { ...options, token: sessionStorage.getItem(TOKEN) });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      sessionStorage.removeItem(TOKEN);
      askForToken(error.status === 403 ? "That is a shopper's token, not the operators' one." : "The admin token was refused.");
    }
    throw error;
  }
}

let timer = null;

function askForToken(problem) {
  clearTimeout(timer);
  timer = null;
  document.getElementById("who").textContent = "";
  const token = h("input", { type: "password", id: "admin-token", name: "token", required: true, autocomplete: "off", minlength: 16 });
  const form = h("form", { class: "form panel", id: "token-form", onsubmit: (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN, token.value.trim());
    start();
  } },
  h("p", {}, "The console needs the operators' token, SHOP_ADMIN_TOKEN of the gateway. ",
    "With scripts/dev.sh, `scripts/dev.sh admin-token` prints it; with Docker Compose it is in your .env."),
  field("Admin token", token),
  h("button", { type: "submit", id: "token-submit" }, "Open the console"));
  mount("view", h("h1", {}, "Operations console"), form);
  if (problem) notify("error", problem, "token");
  token.focus();
}

/** Samples of the stream reports: `{t, reports}`, the last WINDOW_MS of them. */
const samples = [];

function start() {
  clearMessages();
  document.getElementById("who").textContent = "Operator";
  const health = h("section", { class: "panel", id: "health", "aria-labelledby": "health-h" }, h("h2", { id: "health-h" }, "Services"), h("p", { class: "muted" }, "…"));
  const charts = h("section", { class: "ops-grid", id: "charts", "aria-label": "Charts" });
  const streams = h("section", { id: "streams", "aria-labelledby": "streams-h" }, h("h2", { id: "streams-h" }, "Streams"), h("p", { class: "muted" }, "…"));
  const signOut = h("button", { type: "button", class: "secondary small", onclick: () => { sessionStorage.removeItem(TOKEN); askForToken(); } }, "Forget the token");
  mount("view",
    h("div", { class: "status-line" }, h("h1", {}, "Operations console"), h("span", { class: "live", id: "refreshed" }, ""), signOut),
    health, charts, streams,
    deadLettersSection(), rebuildSection(), timelineSection());
  refresh();
}

async function refresh() {
  clearTimeout(timer);
  try {
    const [reports, shop] = await Promise.all([ops("/api/ops/streams"), health()]);
    samples.push({ t: Date.now(), reports });
    while (samples.length > 0 && samples[0].t < Date.now() - WINDOW_MS) samples.shift();
    renderHealth(shop);
    renderStreams(reports);
    renderCharts();
    document.getElementById("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (!sessionStorage.getItem(TOKEN)) return; // asking for a token now
    notify("error", describe(error), "refresh");
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

/** `GET /health`: 503 still carries the per-service map. */
async function health() {
  const response = await fetch("/health", { headers: { Accept: "application/json" } });
  return response.json();
}

function renderHealth(shop) {
  const services = Object.entries(shop.services ?? {});
  mount("health", h("h2", { id: "health-h" }, "Services ", h("span", { class: `badge ${shop.status === "ok" ? "ok" : "bad"}` }, shop.status ?? "unknown")),
    h("div", { class: "health" }, services.map(([name, state]) =>
      h("span", { class: "badge", "data-health": state, "data-service": name }, `${name}: ${state}`))));
}

const bytes = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/** Table headers; a trailing `#` marks a numeric column, aligned right like its cells. */
function heads(names) {
  return names.map((name) => (name.endsWith("#") ? h("th", { class: "num" }, name.slice(0, -1)) : h("th", {}, name)));
}

function renderStreams(reports) {
  mount("streams", h("h2", { id: "streams-h" }, "Streams"),
    reports.map((stream) => h("div", { class: "panel", "data-stream": stream.stream },
      h("h3", {}, stream.stream),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, heads(["length#", "memory#", "bytes / entry#", "first id", "last id", "dead letters#"]))),
        h("tbody", {}, h("tr", {},
          h("td", { class: "num", "data-field": "length" }, stream.length),
          h("td", { class: "num" }, bytes(stream.memoryBytes)),
          h("td", { class: "num" }, stream.bytesPerEntry),
          h("td", { class: "mono" }, stream.firstEntryId ?? "—"),
          h("td", { class: "mono" }, stream.lastEntryId ?? "—"),
          h("td", { class: "num", "data-field": "deadLetters" }, stream.deadLetters))))),
      stream.groups.length === 0 ? h("p", { class: "muted" }, "No consumer group yet.") :
        h("div", { class: "table-wrap" }, h("table", {},
          h("thead", {}, h("tr", {}, heads(["group", "consumers#", "pending#", "lag#", "last delivered"]))),
          h("tbody", {}, stream.groups.map((group) => h("tr", { "data-group": group.name },
            h("td", {}, group.name),
            h("td", { class: "num", "data-field": "consumers" }, group.consumers),
            h("td", { class: "num", "data-field": "pending" }, group.pending),
            h("td", { class: "num", "data-field": "lag" }, group.lag ?? "unknown"),
            h("td", { class: "mono" }, group.lastDeliveredId)))))))));
}

function renderCharts() {
  const lag = new Map();
  const throughput = new Map();
  samples.forEach((sample, i) => {
    for (const stream of sample.reports) {
      // `<prefix>:ORDERS_STREAM` → `orders`: the deployment's prefix says nothing on a chart.
      const short = stream.stream.split(":").pop().replace(/_STREAM$/, "").toLowerCase();
      for (const group of stream.groups) {
        const key = `${short}→${group.name}`;
        if (!lag.has(key)) lag.set(key, []);
        lag.get(key).push([sample.t, group.lag ?? 0]);
      }
      const before = samples[i - 1]?.reports.find((s) => s.stream === stream.stream);
      if (before) {
        const rate = Math.max(0, stream.length - before.length) / ((sample.t - samples[i - 1].t) / 1000);
        if (!throughput.has(short)) throughput.set(short, []);
        throughput.get(short).push([sample.t, rate]);
      }
    }
  });
  const series = (map) => [...map].map(([name, points]) => ({ name, points }));
  mount("charts",
    h("div", { class: "panel" }, lineChart("Lag (entries not delivered yet)", series(lag), WINDOW_MS)),
    h("div", { class: "panel" }, lineChart("Throughput (entries added)", series(throughput), WINDOW_MS, "/s")));
}

window.addEventListener("DOMContentLoaded", () => {
  if (sessionStorage.getItem(TOKEN)) start();
  else askForToken();
});
