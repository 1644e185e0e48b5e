// The shopper's own views: sign in, register, the account with its identity score, the orders, one
// order with its status live (Server-Sent Events, see sse.js), and the order history.

import { api, declineReason, describe, session } from "./api.js";
import { field, h, money, mount, notify, when } from "./dom.js";
import { followOrder } from "./sse.js";
import { cart, navigate, report, signedOut, updateHeader } from "./store.js";

/** Views that need a session send the shopper to sign in first, and back afterwards. */
function requireSession(view, next) {
  if (session.token) return true;
  mount(view, h("h1", {}, "Sign in needed"),
    h("p", {}, "This page is for signed-in shoppers. ", h("a", { href: `#/login?next=${next}` }, "Sign in"), " or ", h("a", { href: "#/register" }, "create an account"), "."));
  return false;
}

function input(name, label, attrs = {}) {
  return field(label, h("input", { name, id: `in-${name}`, required: true, ...attrs }));
}

/** A form whose submit runs `action(values, button)` with the button disabled meanwhile. */
function form(id, fields, submitText, action) {
  const button = h("button", { type: "submit", id: `${id}-submit` }, submitText);
  const element = h("form", { class: "form panel", id, onsubmit: async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      await action(Object.fromEntries(new FormData(element)));
    } catch (error) {
      report(error, id);
    } finally {
      button.disabled = false;
    }
  } }, fields, button);
  return element;
}

export function loginView(view, { params }) {
  const next = params.get("next") ?? "account";
  mount(view, h("h1", {}, "Sign in"),
    form("login", [
      input("email", "Email", { type: "email", autocomplete: "email", value: params.get("email") ?? "" }),
      input("password", "Password", { type: "password", autocomplete: "current-password" }),
    ], "Sign in", async ({ email, password }) => {
      const login = await api("/api/auth/login", { method: "POST", body: { email, password } });
      session.save(login.token, { userId: login.userId, email });
      const me = await api("/api/me", { token: login.token });
      session.save(login.token, me);
      await cart.load();
      updateHeader();
      notify("ok", `Welcome back, ${me.name}.`, "welcome");
      navigate(`/${next}`, { keepMessages: true });
    }),
    h("p", {}, "New here? ", h("a", { href: "#/register" }, "Create an account"), "."));
}

export function registerView(view) {
  mount(view, h("h1", {}, "Create an account"),
    form("register", [
      input("name", "Name", { autocomplete: "name" }),
      input("email", "Email", { type: "email", autocomplete: "email" }),
      input("password", "Password (at least 8 characters)", { type: "password", minlength: 8, autocomplete: "new-password" }),
    ], "Create account", async ({ name, email, password }) => {
      await api("/api/auth/register", { method: "POST", body: { name, email, password } });
      notify("ok", "Your account is ready. Sign in to start shopping.", "registered");
      navigate(`/login?email=${encodeURIComponent(email)}`, { keepMessages: true });
    }));
}

export async function accountView(view) {
  if (!requireSession(view, "account")) return;
  const me = await api("/api/me", { token: session.token });
  const score = me.identityScore;
  mount(view, h("h1", {}, "Account"),
    h("section", { class: "panel" },
      h("dl", {},
        h("dt", {}, "Name"), h("dd", { id: "me-name" }, me.name),
        h("dt", {}, "Email"), h("dd", { id: "me-email" }, me.email),
        h("dt", {}, "User id"), h("dd", { class: "mono" }, me.userId),
        h("dt", {}, "Identity score"),
        h("dd", { id: "identity-score" }, score === null || score === undefined ? "Not scored yet (it follows your first sign-in)" :
          [h("meter", { min: 0, max: 1, value: score, "aria-label": "Identity score" }), ` ${Math.round(score * 100)} / 100`]))),
    h("button", { type: "button", id: "logout", class: "secondary", onclick: logout }, "Sign out"));
}

async function logout() {
  try {
    await api("/api/auth/logout", { method: "POST", token: session.token });
  } catch (error) {
    // Signed out already (401) is what was asked; anything else is worth saying.
    if (error.status !== 401) notify("error", describe(error));
  }
  session.clear();
  cart.items = [];
  updateHeader();
  notify("ok", "You are signed out.", "signed-out");
  navigate("/", { keepMessages: true });
}

function statusBadge(status, id) {
  return h("span", { class: "badge", "data-status": status, id }, status.replace("_", " "));
}

export async function ordersView(view, { params }) {
  if (!requireSession(view, "orders")) return;
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  const result = await api(`/api/orders?page=${page}&pageSize=20`, { token: session.token });
  mount(view, h("h1", {}, "Orders"),
    result.items.length === 0 ? h("p", {}, "No orders yet.") :
      h("div", { class: "table-wrap" }, h("table", { id: "orders" },
        h("thead", {}, h("tr", {}, h("th", {}, "Order"), h("th", {}, "Placed"), h("th", {}, "Status"), h("th", { class: "num" }, "Total"))),
        h("tbody", {}, result.items.map((order) => h("tr", { "data-order-id": order.orderId },
          h("td", {}, h("a", { href: `#/orders/${order.orderId}` }, order.orderId)),
          h("td", {}, when(order.createdAt)),
          h("td", {}, statusBadge(order.status)),
          h("td", { class: "num" }, money(order.orderAmount, order.currency))))))),
    h("p", { class: "muted" }, `${result.total} order${result.total === 1 ? "" : "s"}`),
    h("nav", { class: "pager", "aria-label": "Pages" },
      page > 1 ? h("a", { class: "button secondary", href: `#/orders?page=${page - 1}` }, "← Newer") : null,
      page * result.pageSize < result.total ? h("a", { class: "button secondary", href: `#/orders?page=${page + 1}` }, "Older →") : null));
}

/** `#/orders/{id}`: the order, its status kept current by the event stream without a reload. */
export async function orderView(view, { args: [orderId] }) {
  if (!requireSession(view, `orders/${orderId}`)) return undefined;
  const order = await api(`/api/orders/${encodeURIComponent(orderId)}`, { token: session.token });
  const badge = statusBadge(order.status, "order-status");
  const reason = h("p", { class: "reason", id: "decline-reason", hidden: true });
  const live = h("span", { class: "live", id: "live-state" }, "");
  mount(view, h("h1", {}, `Order ${order.orderId}`),
    h("section", { class: "panel" },
      h("div", { class: "status-line", "aria-live": "polite" }, h("span", {}, "Status"), badge, live),
      reason,
      h("p", { class: "muted" }, `Placed ${when(order.createdAt)}`),
      h("p", { id: "payment-id" }, order.paymentId ? `Payment ${order.paymentId}` : "Payment pending")),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Product"), h("th", { class: "num" }, "Qty"), h("th", { class: "num" }, "Price"))),
      h("tbody", {}, order.products.map((line) => h("tr", {},
        h("td", {}, h("a", { href: `#/products/${line.productId}` }, line.name)),
        h("td", { class: "num" }, line.qty),
        h("td", { class: "num" }, money(line.productPrice))))))),
    h("p", { class: "totals" }, "Total ", h("strong", {}, money(order.orderAmount, order.currency))));

  const show = (status) => {
    badge.dataset.status = status.status;
    badge.textContent = status.status.replace("_", " ");
    if (status.paymentId) document.getElementById("payment-id").textContent = `Payment ${status.paymentId}`;
    if (status.status === "payment_failed") {
      reason.hidden = false;
      reason.textContent = `Payment declined: ${declineReason(status.reason)}.`;
    }
  };
  const stream = followOrder(order.orderId, session.token, {
    onStatus: show,
    onState: (state) => {
      live.textContent = { connecting: "connecting…", live: "● live", reconnecting: "reconnecting…", final: "", closed: "" }[state] ?? "";
    },
    onError: (error) => (error.status === 401 ? signedOut() : notify("error", describe(error), "live")),
  });
  return () => stream.close();
}

export async function historyView(view) {
  if (!requireSession(view, "history")) return;
  const result = await api("/api/order-history?pageSize=50", { token: session.token });
  mount(view, h("h1", {}, "Order history"),
    h("p", { class: "muted" }, "Built by the order-history service from the event streams alone."),
    result.items.length === 0 ? h("p", {}, "Nothing in the history yet.") :
      h("div", { class: "table-wrap" }, h("table", { id: "history" },
        h("thead", {}, h("tr", {}, h("th", {}, "Order"), h("th", {}, "Status"), h("th", { class: "num" }, "Items"), h("th", { class: "num" }, "Total"), h("th", {}, "Payment"), h("th", {}, "Updated"))),
        h("tbody", {}, result.items.map((item) => h("tr", { "data-order-id": item.orderId },
          h("td", {}, h("a", { href: `#/orders/${item.orderId}` }, item.orderId)),
          h("td", {}, statusBadge(item.status)),
          h("td", { class: "num" }, item.products.reduce((sum, line) => sum + line.qty, 0)),
          h("td", { class: "num" }, money(item.orderAmount)),
          h("td", { class: "mono" }, item.paymentId ?? "—"),
          h("td", {}, when(item.updatedAt))))))));
}
