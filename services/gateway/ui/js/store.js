// The storefront: a hash router over the views, the header's state, and the cart. The cart is the
// gateway's (`GET`/`PUT /api/cart`, per user, in Redis) once signed in; before that it is kept in
// localStorage and merged into the user's cart at sign-in.

import { api, describe, session, ApiError } from "./api.js";
import { clearMessages, mount, notify } from "./dom.js";
import { catalogView, productView, cartView } from "./store-views.js";
import { loginView, registerView, accountView, ordersView, orderView, historyView } from "./account-views.js";

const GUEST_CART = "shop.guestCart";

/** The cart: `[{productId, qty}]`, saved after every change. */
export const cart = {
  items: [],

  async load() {
    const guest = readGuest();
    if (!session.token) {
      this.items = guest;
      return;
    }
    const stored = await api("/api/cart", { token: session.token });
    this.items = stored.items;
    if (guest.length > 0) {
      for (const line of guest) mergeLine(this.items, line.productId, line.qty);
      localStorage.removeItem(GUEST_CART);
      await this.save();
    }
  },

  async save() {
    // Any change to the cart is a new checkout: a new Idempotency-Key.
    sessionStorage.removeItem("shop.checkoutKey");
    if (session.token) {
      const stored = await api("/api/cart", { method: "PUT", token: session.token, body: { items: this.items } });
      this.items = stored.items;
    } else {
      localStorage.setItem(GUEST_CART, JSON.stringify(this.items));
    }
    updateHeader();
  },

  async add(productId, qty) {
    mergeLine(this.items, productId, qty);
    await this.save();
  },

  async set(productId, qty) {
    const line = this.items.find((l) => l.productId === productId);
    if (line) line.qty = qty;
    this.items = this.items.filter((l) => l.qty > 0);
    await this.save();
  },

  count() {
    return this.items.reduce((sum, line) => sum + line.qty, 0);
  },
};

function mergeLine(items, productId, qty) {
  const line = items.find((l) => l.productId === productId);
  if (line) line.qty = Math.min(100, line.qty + qty);
  else items.push({ productId, qty: Math.min(100, qty) });
}

function readGuest() {
  try {
    const items = JSON.parse(localStorage.getItem(GUEST_CART) ?? "[]");
    return Array.isArray(items) ? items.filter((l) => typeof l.productId === "string" && Number.isInteger(l.qty)) : [];
  } catch {
    return [];
  }
}

/** The header: who is signed in, and the cart's size. */
export function updateHeader() {
  const user = session.user;
  document.getElementById("who").textContent = user ? `Signed in as ${user.name || user.email}` : "";
  document.getElementById("nav-account").textContent = user ? "Account" : "Sign in";
  const count = cart.count();
  document.getElementById("nav-cart").textContent = count > 0 ? `Cart (${count})` : "Cart";
}

/** Called when an API call says the session is gone: forget it, say so, offer to sign in. */
export function signedOut() {
  session.clear();
  updateHeader();
  notify("error", "You are signed out. Sign in again to continue.", "signed-out");
}

/** Shows `error` in the messages area; a 401 also ends the session in this tab. */
export function report(error, key) {
  if (error instanceof ApiError && error.status === 401) {
    signedOut();
    return;
  }
  notify("error", describe(error), key ?? describe(error));
}

const ROUTES = [
  [/^$/, "catalog", catalogView],
  [/^products\/([\w-]+)$/, "catalog", productView],
  [/^cart$/, "cart", cartView],
  [/^login$/, "account", loginView],
  [/^register$/, "account", registerView],
  [/^account$/, "account", accountView],
  [/^orders$/, "orders", ordersView],
  [/^orders\/([\w-]+)$/, "orders", orderView],
  [/^history$/, "history", historyView],
];

let leaving = null;

/** Renders the view of the current `#/path?query`. */
async function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  const match = ROUTES.find(([pattern]) => pattern.test(path));
  leaving?.();
  leaving = null;
  if (!sticky) clearMessages();
  sticky = false;
  for (const link of document.querySelectorAll("[data-nav]")) link.removeAttribute("aria-current");
  if (!match) {
    mount("view", "That page does not exist.");
    return;
  }
  const [pattern, nav, view] = match;
  document.querySelector(`[data-nav="${nav}"]`)?.setAttribute("aria-current", "page");
  const args = path.match(pattern).slice(1);
  const view_ = document.getElementById("view");
  try {
    // A view may return a clean-up function (a live stream to close when the page changes).
    leaving = (await view(view_, { params, args })) ?? null;
  } catch (error) {
    report(error);
    mount(view_);
  }
}

let sticky = false;

/** Goes to `#/path`; `keepMessages` carries the current messages over (e.g. "account created"). */
export function navigate(path, { keepMessages = false } = {}) {
  sticky = keepMessages;
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", async () => {
  try {
    await cart.load();
  } catch (error) {
    report(error);
  }
  updateHeader();
  route();
});
