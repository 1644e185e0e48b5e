// Building the pages: elements are created with `h`, and text always goes in as text nodes, never
// as HTML, so nothing a product name or an error message contains can become markup.

const SVG = "http://www.w3.org/2000/svg";

/** An element: `h("a", {href: "#/"}, "text", child)`. `on*` attributes are listeners. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  return fill(element, attrs, children);
}

/** An SVG element, for the console's charts. */
export function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS(SVG, tag), attrs, children);
}

function fill(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replaces the children of `target` (an element or its id). */
export function mount(target, ...children) {
  const element = typeof target === "string" ? document.getElementById(target) : target;
  element.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

/** Cents as money: 3999 → "$39.99". */
export function money(cents, currency = "USD") {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format((cents ?? 0) / 100);
}

/** An RFC 3339 time, or milliseconds, for people. */
export function when(value) {
  if (value === undefined || value === null || value === "") return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** A labelled form control: `<label>text <input ...></label>`. */
export function field(text, control) {
  return h("label", {}, text, control);
}

/** The messages area: one message per key, replaced when the same key is shown again. */
export function notify(kind, text, key = text) {
  const area = document.getElementById("messages");
  if (!area) return;
  for (const old of area.querySelectorAll("[data-key]")) {
    if (old.dataset.key === key) old.remove();
  }
  const message = h("div", { class: `message ${kind}`, "data-key": key, role: kind === "error" ? "alert" : null },
    h("span", { class: "text" }, text),
    h("button", { class: "secondary small", type: "button", "aria-label": "Dismiss", onclick: () => message.remove() }, "×"));
  area.append(message);
}

/** Clears the messages (a new page starts clean). */
export function clearMessages() {
  document.getElementById("messages")?.replaceChildren();
}
