// Calling the shop's API (same origin), and turning its error bodies into messages for people.
// Errors are `{"error":{"code","message"}}` everywhere (docs/api.md), so one function reads them.

/** An answer that is not a success, with the shop's error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The signed-in shopper: the bearer token and who it is, kept across reloads in localStorage. */
export const session = {
  get token() { return localStorage.getItem("shop.token"); },
  get user() {
    try { return JSON.parse(localStorage.getItem("shop.user") ?? "null"); } catch { return null; }
  },
  save(token, user) {
    localStorage.setItem("shop.token", token);
    localStorage.setItem("shop.user", JSON.stringify(user));
  },
  clear() {
    localStorage.removeItem("shop.token");
    localStorage.removeItem("shop.user");
  },
};

/**
 * `fetch` of `path` with JSON in and out. `token` adds `Authorization: Bearer`. Resolves to the
 * parsed body (null for 204), rejects with an ApiError (status 0 when the shop cannot be reached).
 */
export async function api(path, { method = "GET", body, token, headers = {}, signal } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (token) sent.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The shop cannot be reached. Check the connection and try again.");
  }
  return read(response);
}

/** The body of `response`, or the ApiError it carries. */
export async function read(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (response.ok) return parsed;
  const error = parsed?.error ?? {};
  throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? (text || response.statusText));
}

/** What to tell a person about `error`, by status and code. */
export function describe(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error?.message ?? error}`;
  switch (error.code) {
    case "out_of_stock": return `Out of stock: ${error.message}. Lower the quantity or remove the item.`;
    case "unauthenticated": return "You are signed out. Sign in again to continue.";
    case "invalid_credentials": return "That email and password do not match an account.";
    case "email_taken": return "An account with that email already exists. Sign in instead.";
    case "product_not_found": return `That product no longer exists: ${error.message}`;
    case "rate_limited": return "Too many requests at once. Wait a moment and try again.";
    case "too_many_streams": return "Too many order pages are open live; close one to follow this order live.";
    case "idempotency_key_reused": return "This checkout changed while it was being placed. Review the cart and try again.";
    case "order_in_progress": return "Your order is still being placed. Wait a moment and try again.";
    default: break;
  }
  if (error.status === 0) return error.message;
  if (error.status === 401) return "You are signed out. Sign in again to continue.";
  if (error.status === 503) return `A part of the shop is down right now (${error.message}). Try again in a moment.`;
  if (error.status === 504) return `A part of the shop is too slow to answer right now (${error.message}). Try again in a moment.`;
  if (error.status === 502) return `A part of the shop failed to answer (${error.message}). Try again in a moment.`;
  return error.message || `The request failed (${error.status}).`;
}

/** Why a payment was declined, for people. */
export function declineReason(reason) {
  switch (reason) {
    case "amount_limit_exceeded": return "the order total is above the payment limit (amount_limit_exceeded)";
    case undefined: case null: case "": return "no reason given";
    default: return reason;
  }
}

/** A fresh random key (Idempotency-Key, ...). */
export function randomKey(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
