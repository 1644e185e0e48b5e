// The shopping views: the catalog with its filters and pages, a product, and the cart with its
// checkout. Checkout sends one Idempotency-Key per cart (kept in sessionStorage until the cart
// changes or the order is placed), so a double click, or a retry after a timeout, places one order.

import { api, describe, randomKey, session, ApiError } from "./api.js";
import { field, h, money, mount, notify } from "./dom.js";
import { cart, navigate, report } from "./store.js";

const PAGE_SIZE = 12;

/** Categories and brands for the filters, from one large catalog page (cached per tab). */
let facets = null;
async function loadFacets() {
  if (facets) return facets;
  const page = await api("/api/products?pageSize=100");
  facets = {
    categories: [...new Set(page.items.map((p) => p.category))].sort(),
    brands: [...new Set(page.items.map((p) => p.brand))].sort(),
  };
  return facets;
}

/** `/img/products/p-0001.svg?label=FC`: the shop's own placeholder image. */
export function imageOf(product) {
  const label = product.name.split(/\s+/).map((word) => word[0] ?? "").join("").slice(0, 2);
  return `/img/products/${encodeURIComponent(product.productId)}.svg?label=${encodeURIComponent(label)}`;
}

function stockText(qty) {
  if (qty <= 0) return h("span", { class: "stock out" }, "Out of stock");
  if (qty < 10) return h("span", { class: "stock low" }, `Only ${qty} left`);
  return h("span", { class: "stock" }, `${qty} in stock`);
}

/** `#/?search=&category=&brand=&minPrice=&maxPrice=&page=` (prices in dollars in the form). */
export async function catalogView(view, { params }) {
  const query = new URLSearchParams();
  for (const name of ["search", "category", "brand"]) if (params.get(name)) query.set(name, params.get(name));
  for (const name of ["minPrice", "maxPrice"]) {
    const dollars = Number.parseFloat(params.get(name) ?? "");
    if (Number.isFinite(dollars)) query.set(name, String(Math.round(dollars * 100)));
  }
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  query.set("page", String(page));
  query.set("pageSize", String(PAGE_SIZE));

  const [result, known] = await Promise.all([api(`/api/products?${query}`), loadFacets().catch(() => ({ categories: [], brands: [] }))]);
  const input = (name, attrs = {}) => h("input", { name, id: `f-${name}`, value: params.get(name) ?? "", ...attrs });
  const category = h("select", { name: "category", id: "f-category" }, h("option", { value: "" }, "All categories"),
    known.categories.map((c) => h("option", { value: c, selected: c === params.get("category") }, c)));
  const form = h("form", { class: "filters", role: "search", onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (String(value).trim() !== "") next.set(name, String(value).trim());
    navigate(`/?${next}`);
  } },
  h("div", { class: "search" }, field("Search", input("search", { type: "search", placeholder: "linen, boots, …" }))),
  field("Category", category),
  field("Brand", input("brand", { list: "brands", placeholder: "Any brand" })),
  h("datalist", { id: "brands" }, known.brands.map((b) => h("option", { value: b }))),
  field("Min price ($)", input("minPrice", { type: "number", min: "0", step: "0.01", inputmode: "decimal" })),
  field("Max price ($)", input("maxPrice", { type: "number", min: "0", step: "0.01", inputmode: "decimal" })),
  h("button", { type: "submit" }, "Apply"));

  const pages = Math.max(1, Math.ceil(result.total / result.pageSize));
  const goto = (n) => { const next = new URLSearchParams(params); next.set("page", String(n)); return `#/?${next}`; };
  mount(view,
    h("h1", {}, "Catalog"),
    form,
    h("p", { class: "muted", id: "result-count" }, `${result.total} product${result.total === 1 ? "" : "s"}`),
    result.items.length === 0 ? h("p", {}, "Nothing matches these filters.") :
      h("ul", { class: "grid", id: "products", role: "list" }, result.items.map(productCard)),
    h("nav", { class: "pager", "aria-label": "Pages" },
      page > 1 ? h("a", { class: "button secondary", href: goto(page - 1), rel: "prev" }, "← Previous") : null,
      h("span", { id: "page-of" }, `Page ${page} of ${pages}`),
      page < pages ? h("a", { class: "button secondary", href: goto(page + 1), rel: "next", id: "next-page" }, "Next →") : null));
}

function productCard(product) {
  return h("li", { class: "card", "data-product-id": product.productId },
    h("img", { src: imageOf(product), alt: "", width: 400, height: 300, loading: "lazy" }),
    h("div", { class: "body" },
      h("a", { class: "name", href: `#/products/${product.productId}` }, product.name),
      h("span", { class: "meta" }, `${product.brand} · ${product.category}`),
      h("div", { class: "row" },
        h("span", { class: "price" }, money(product.price, product.currency)),
        stockText(product.stockQty)),
      h("button", { type: "button", class: "add", disabled: product.stockQty <= 0, "aria-label": `Add ${product.name} to cart`,
        onclick: () => addToCart(product, 1) }, "Add to cart")));
}

async function addToCart(product, qty) {
  try {
    await cart.add(product.productId, qty);
    notify("ok", `${product.name} is in your cart.`, "cart");
  } catch (error) {
    report(error);
  }
}

/** `#/products/{id}`: one product with its stock. */
export async function productView(view, { args: [productId] }) {
  const product = await api(`/api/products/${encodeURIComponent(productId)}`);
  const qty = h("input", { type: "number", id: "qty", name: "qty", min: 1, max: Math.max(1, Math.min(100, product.stockQty)), value: 1, class: "qty" });
  mount(view, h("article", { class: "product" },
    h("img", { src: imageOf(product), alt: product.name, width: 400, height: 300 }),
    h("div", {},
      h("h1", {}, product.name),
      h("p", { class: "muted" }, `${product.brand} · ${product.category} · ${product.subCategory}`),
      h("p", {}, product.description),
      h("p", { class: "price" }, money(product.price, product.currency)),
      h("p", { id: "stock" }, stockText(product.stockQty)),
      h("div", { class: "actions" },
        field("Quantity", qty),
        h("button", { type: "button", id: "add-to-cart", disabled: product.stockQty <= 0,
          onclick: () => addToCart(product, Math.max(1, Number.parseInt(qty.value, 10) || 1)) }, "Add to cart")))));
}

/** `#/cart`: the lines with their current prices, quantities, and checkout. */
export async function cartView(view) {
  if (cart.items.length === 0) {
    mount(view, h("h1", {}, "Cart"), h("p", { id: "cart-empty" }, "Your cart is empty. ", h("a", { href: "#/" }, "Browse the catalog.")));
    return;
  }
  const products = await Promise.all(cart.items.map((line) =>
    api(`/api/products/${encodeURIComponent(line.productId)}`).catch((error) => ({ productId: line.productId, missing: error }))));
  const rows = cart.items.map((line, i) => {
    const product = products[i];
    if (product.missing) {
      return h("tr", {}, h("td", { colspan: 4 }, `${line.productId}: ${describe(product.missing)}`),
        h("td", {}, h("button", { class: "secondary small", type: "button", onclick: () => change(line.productId, 0) }, "Remove")));
    }
    const qty = h("input", { type: "number", min: 1, max: 100, value: line.qty, class: "qty", "aria-label": `Quantity of ${product.name}`,
      onchange: () => change(line.productId, Math.max(1, Math.min(100, Number.parseInt(qty.value, 10) || 1))) });
    return h("tr", { "data-product-id": line.productId },
      h("td", {}, h("a", { href: `#/products/${product.productId}` }, product.name), h("br"), stockText(product.stockQty)),
      h("td", { class: "num" }, money(product.price)),
      h("td", {}, qty),
      h("td", { class: "num" }, money(product.price * line.qty)),
      h("td", {}, h("button", { class: "secondary small", type: "button", onclick: () => change(line.productId, 0) }, "Remove")));
  });
  const total = cart.items.reduce((sum, line, i) => sum + (products[i].price ?? 0) * line.qty, 0);
  const checkout = h("button", { type: "button", id: "checkout", onclick: () => placeOrder(checkout) }, "Place order");
  mount(view,
    h("h1", {}, "Cart"),
    h("div", { class: "table-wrap" }, h("table", { id: "cart" },
      h("thead", {}, h("tr", {}, h("th", {}, "Product"), h("th", { class: "num" }, "Price"), h("th", {}, "Qty"), h("th", { class: "num" }, "Subtotal"), h("th", {}, h("span", { class: "skip" }, "Actions")))),
      h("tbody", {}, rows))),
    h("div", { class: "totals" }, h("span", {}, "Total ", h("strong", { id: "cart-total" }, money(total))),
      session.token ? checkout : h("a", { class: "button", href: "#/login?next=cart" }, "Sign in to check out")));

  async function change(productId, qty) {
    try {
      await cart.set(productId, qty);
      await cartView(view);
    } catch (error) {
      report(error);
    }
  }
}

let placing = false;

/** POST /api/orders with this cart's Idempotency-Key; on success the cart empties. */
async function placeOrder(button) {
  if (placing) return; // the key already makes a second order impossible; this spares the request
  placing = true;
  button.disabled = true;
  let key = sessionStorage.getItem("shop.checkoutKey");
  if (!key) {
    key = randomKey("checkout");
    sessionStorage.setItem("shop.checkoutKey", key);
  }
  try {
    const order = await api("/api/orders", { method: "POST", token: session.token, headers: { "Idempotency-Key": key },
      body: { products: cart.items.map(({ productId, qty }) => ({ productId, qty })) } });
    cart.items = [];
    await cart.save();
    notify("ok", `Order ${order.orderId} placed.`, "placed");
    navigate(`/orders/${order.orderId}`, { keepMessages: true });
  } catch (error) {
    // A definite refusal ends this checkout; a timeout or outage keeps the key, so the retry
    // finds the order if it was placed after all.
    if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429) {
      sessionStorage.removeItem("shop.checkoutKey");
    }
    report(error, "checkout");
    button.disabled = false;
  } finally {
    placing = false;
  }
}
