// Following an order's status live: Server-Sent Events from `GET /api/orders/{id}/events`, read with
// fetch() because EventSource cannot send the Authorization header (and a token in the URL would
// end up in logs). This does what EventSource does: parse `event:`/`data:`/`id:` lines, remember
// the last id, and reconnect with `Last-Event-ID` after a drop, backing off up to 10 s.

import { ApiError, read } from "./api.js";

/**
 * Calls `onStatus(status)` for each status event and `onState(text)` as the connection changes.
 * Ends by itself once the order is final (paid or declined), or on 401/404; `close()` ends it.
 */
export function followOrder(orderId, token, { onStatus, onState, onError }) {
  const controller = new AbortController();
  let lastEventId = null;
  let delay = 1000;
  let finished = false;

  async function connect() {
    while (!finished && !controller.signal.aborted) {
      try {
        onState?.("connecting");
        const headers = { Accept: "text/event-stream", Authorization: `Bearer ${token}` };
        if (lastEventId) headers["Last-Event-ID"] = lastEventId;
        const response = await fetch(`/api/orders/${encodeURIComponent(orderId)}/events`, { headers, signal: controller.signal });
        if (!response.ok) await read(response); // throws the ApiError of the body
        onState?.("live");
        delay = 1000;
        await consume(response.body, (event) => {
          if (event.id) lastEventId = event.id;
          if (event.type !== "status") return;
          const status = JSON.parse(event.data);
          if (status.orderStatusCode !== 1) finished = true;
          onStatus(status);
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && [401, 403, 404, 422].includes(error.status)) {
          finished = true;
          onError?.(error);
          break;
        }
        if (error instanceof ApiError) onError?.(error);
      }
      if (finished || controller.signal.aborted) break;
      onState?.("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
    onState?.(finished ? "final" : "closed");
  }

  connect();
  return { close: () => controller.abort() };
}

/** Reads an event stream body, calling `dispatch({type, data, id})` per event. */
async function consume(body, dispatch) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { type: "message", data: [], id: null };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") {
        if (event.data.length > 0) dispatch({ type: event.type, data: event.data.join("\n"), id: event.id });
        event = { type: "message", data: [], id: null };
        continue;
      }
      if (line.startsWith(":")) continue; // a keep-alive comment
      const colon = line.indexOf(":");
      const name = colon === -1 ? line : line.slice(0, colon);
      const valuePart = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (name === "event") event.type = valuePart;
      else if (name === "data") event.data.push(valuePart);
      else if (name === "id") event.id = valuePart;
    }
  }
}
