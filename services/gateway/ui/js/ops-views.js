// The console's tools: the dead-letter browser (paged, with replay), the order-history rebuild,
// and an order's timeline across the streams, with each group's acknowledgement, the outbox, the
// stock ledger and the payment.

import { describe } from "./api.js";
import { field, h, mount, notify, when } from "./dom.js";
import { ops } from "./ops.js";

const STREAMS = ["ORDERS_STREAM", "PAYMENTS_STREAM", "IDENTITY_STREAM"];

export function deadLettersSection() {
  const stream = h("select", { id: "dlq-stream", name: "stream" }, STREAMS.map((s) => h("option", { value: s }, s)));
  const list = h("div", { id: "dlq-list" });
  const replay = h("button", { type: "button", id: "dlq-replay", class: "danger", onclick: async () => {
    replay.disabled = true;
    try {
      const { replayed } = await ops(`/api/ops/dead-letters/${stream.value}/replay`, { method: "POST" });
      notify("ok", `${replayed} dead letter${replayed === 1 ? "" : "s"} of ${stream.value} replayed.`, "replay");
      await load();
    } catch (error) {
      notify("error", describe(error), "replay");
    } finally {
      replay.disabled = false;
    }
  } }, "Replay all");

  async function load(after) {
    try {
      const page = await ops(`/api/ops/dead-letters/${stream.value}?limit=20${after ? `&after=${encodeURIComponent(after)}` : ""}`);
      mount(list,
        h("p", { class: "muted", id: "dlq-total" }, `${page.total} dead letter${page.total === 1 ? "" : "s"} in ${page.stream}`),
        page.items.length === 0 ? null : h("div", { class: "table-wrap" }, h("table", { id: "dlq-table" },
          h("thead", {}, h("tr", {}, ["id", "group", "deliveries", "error", "original"].map((t) => h("th", {}, t)))),
          h("tbody", {}, page.items.map((letter) => h("tr", { "data-id": letter.id },
            h("td", { class: "mono" }, letter.id, h("br"), h("span", { class: "muted" }, when(Number.parseInt(letter.id, 10)))),
            h("td", {}, letter.group ?? "—"),
            h("td", { class: "num" }, letter.deliveries ?? "—"),
            h("td", { class: "dlq-error" }, letter.error ?? "—"),
            h("td", {}, h("p", { class: "fields mono" }, Object.entries(letter.fields).map(([k, v]) => `${k}=${v}`).join("  ")))))))),
        page.next ? h("button", { type: "button", class: "secondary", onclick: () => load(page.next) }, "Next page") : null,
        after ? h("button", { type: "button", class: "secondary", onclick: () => load() }, "First page") : null);
    } catch (error) {
      mount(list, h("p", { class: "reason" }, describe(error)));
    }
  }

  stream.addEventListener("change", () => load());
  const section = h("section", { class: "panel", id: "dead-letters", "aria-labelledby": "dlq-h" },
    h("h2", { id: "dlq-h" }, "Dead letters"),
    h("div", { class: "inline-form" }, field("Stream", stream),
      h("button", { type: "button", class: "secondary", id: "dlq-refresh", onclick: () => load() }, "Refresh"), replay),
    list);
  load();
  return section;
}

export function rebuildSection() {
  const status = h("div", { id: "rebuild-status", "aria-live": "polite" });
  const button = h("button", { type: "button", id: "rebuild", onclick: async () => {
    button.disabled = true;
    const started = Date.now();
    const reports = await ops("/api/ops/streams").catch(() => []);
    const toReplay = reports.filter((r) => /(ORDERS|PAYMENTS)_STREAM$/.test(r.stream)).reduce((n, r) => n + r.length, 0);
    const bar = h("progress", { "aria-label": "Rebuilding" });
    const elapsed = h("span", {}, "");
    const tick = setInterval(() => { elapsed.textContent = ` ${((Date.now() - started) / 1000).toFixed(0)} s`; }, 500);
    // order-history answers once the new model is active; until then only the elapsed time and
    // the size of the work (the two streams' entries) are known.
    mount(status, bar, h("p", {}, `Replaying up to ${toReplay} stream entries…`, elapsed));
    try {
      const result = await ops("/api/ops/order-history/rebuild", { method: "POST" });
      mount(status, h("progress", { max: 1, value: 1, "aria-label": "Rebuilt" }),
        h("p", { id: "rebuild-result" }, `Rebuilt from ${result.events} events${result.skipped !== undefined ? ` (${result.skipped} skipped)` : ""}` +
          `${result.generation !== undefined ? `, generation ${result.generation}` : ""} in ${((Date.now() - started) / 1000).toFixed(1)} s.`));
    } catch (error) {
      mount(status, h("p", { class: "reason" }, describe(error)));
    } finally {
      clearInterval(tick);
      button.disabled = false;
    }
  } }, "Rebuild the order history");
  return h("section", { class: "panel", id: "rebuild", "aria-labelledby": "rebuild-h" },
    h("h2", { id: "rebuild-h" }, "Order-history rebuild"),
    h("p", { class: "muted" }, "Replays ORDERS_STREAM and PAYMENTS_STREAM into a new read model while the live one keeps serving, then swaps."),
    button, status);
}

export function timelineSection() {
  const orderId = h("input", { id: "timeline-order", name: "orderId", required: true, placeholder: "order id" });
  const result = h("div", { id: "timeline-result" });
  const form = h("form", { class: "inline-form", onsubmit: async (event) => {
    event.preventDefault();
    try {
      renderTimeline(result, await ops(`/api/ops/orders/${encodeURIComponent(orderId.value.trim())}/timeline`));
    } catch (error) {
      mount(result, h("p", { class: "reason" }, describe(error)));
    }
  } }, field("Order id", orderId), h("button", { type: "submit", id: "timeline-show" }, "Show timeline"));
  return h("section", { class: "panel", id: "timeline", "aria-labelledby": "timeline-h" },
    h("h2", { id: "timeline-h" }, "Order timeline"), form, result);
}

function renderTimeline(target, timeline) {
  const keyFields = ["orderStatusCode", "reason", "paymentId", "orderAmount", "paidAmount"];
  mount(target,
    timeline.unavailable.length ? h("p", { class: "reason" }, `Not reachable: ${timeline.unavailable.join(", ")}`) : null,
    timeline.events.length === 0 ? h("p", {}, "No stream entry mentions this order.") :
      h("div", { class: "table-wrap" }, h("table", { id: "timeline-events" },
        h("thead", {}, h("tr", {}, ["time", "stream", "entry", "event", "groups"].map((t) => h("th", {}, t)))),
        h("tbody", {}, timeline.events.map((event) => h("tr", { "data-stream": event.stream, "data-type": event.type ?? "" },
          h("td", {}, when(event.atMs)),
          h("td", {}, event.stream),
          h("td", { class: "mono" }, event.id),
          h("td", {}, h("strong", {}, event.type ?? "(no type)"),
            h("p", { class: "fields mono" }, keyFields.filter((k) => event.fields[k]).map((k) => `${k}=${event.fields[k]}`).join("  ")),
            event.deadLetter ? h("p", { class: "reason" }, `dead-lettered by ${event.deadLetter.group} after ${event.deadLetter.deliveries} deliveries: ${event.deadLetter.error}`) : null),
          h("td", {}, event.groups.map((g) => [h("span", { class: "badge", "data-state": g.state, "data-group": g.group },
            `${g.group}: ${g.state}${g.consumer ? ` (${g.consumer}, ${g.deliveries}×)` : ""}`), " "]))))))),
    h("div", { class: "ops-grid" },
      h("div", {}, h("h3", {}, "Outbox (orders)"), details(timeline.outbox, "outbox-state")),
      h("div", {}, h("h3", {}, "Stock ledger (products)"), movements(timeline.stock)),
      h("div", {}, h("h3", {}, "Payment (payments)"), details(timeline.payment, "payment-state"))));
}

function details(value, id) {
  if (!value) return h("p", { class: "muted", id }, "No record.");
  const flat = Object.entries(value).filter(([, v]) => typeof v !== "object" || v === null);
  return h("dl", { id }, flat.map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, String(v))]),
    value.outbox ? [h("dt", {}, "outbox"), h("dd", { class: "mono" }, Object.entries(value.outbox).filter(([, v]) => typeof v !== "object").map(([k, v]) => `${k}=${v}`).join("  "))] : null);
}

function movements(stock) {
  if (!stock || !stock.movements?.length) return h("p", { class: "muted", id: "stock-movements" }, "No movement.");
  return h("div", {}, h("p", {}, `Reservation outcome: ${stock.outcome ?? "open"}`),
    h("table", { id: "stock-movements" }, h("thead", {}, h("tr", {}, ["product", "kind", "delta", "balance", "at"].map((t) => h("th", {}, t)))),
      h("tbody", {}, stock.movements.map((m) => h("tr", {}, h("td", {}, m.productId), h("td", {}, m.kind), h("td", { class: "num" }, m.delta),
        h("td", { class: "num" }, m.balance), h("td", {}, when(m.at)))))));
}
