//! `GET /api/orders/{orderId}/events`: an order's status as Server-Sent Events. The first event is
//! the order's current status (asked of `orders` as the user, so another user's order is a 404
//! exactly as on `GET /api/orders/{orderId}`); then each payment outcome for it from
//! `PAYMENTS_STREAM`, with the entry id as the event id. `Last-Event-ID` replays the outcomes
//! after that entry first. The stream ends once the order is paid or declined.
//!
//! Authentication is the usual bearer header, so the page reads the stream with `fetch()` rather
//! than `EventSource` (which cannot send headers): no token in a URL, where logs and history
//! would keep it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fred::prelude::StreamsInterface;
use futures::Stream;
use shop_domain::{OrderId, UserId};
use tokio::sync::broadcast::{self, error::RecvError};
use tracing::instrument;

use crate::AppState;
use crate::auth::authenticate;
use crate::error::{ApiError, Result};
use crate::events::{OrderStatusEvent, PaymentEntry, Slot, is_entry_id};
use crate::openapi::schemas::ErrorBody;
use crate::proxy::Outgoing;
use crate::upstream::Upstream;

/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Stream entries scanned for a `Last-Event-ID` replay, or back from the newest for an outcome
/// `orders` has not applied yet: an order has one outcome, normally a few entries away; a client
/// days behind gets its status from the first event.
const REPLAY_SCAN: u64 = 1_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/orders/{orderId}/events", get(order_events))
}

/// The caller's order's status, live: `event: status` messages whose data is an
/// `OrderStatusEvent`. Read with `fetch()` and the bearer header (see `docs/architecture.md`).
#[utoipa::path(
    get,
    path = "/api/orders/{orderId}/events",
    tag = "orders",
    security(("session" = [])),
    params(
        ("orderId" = String, Path),
        ("Last-Event-ID" = Option<String>, Header, description = "The last event id received: the outcomes after that stream entry are sent again"),
    ),
    responses(
        (status = 200, description = "`text/event-stream`: first the current status, then each change; ends when the order is final", body = OrderStatusEvent, content_type = "text/event-stream"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`order_not_found` (also for other users' orders)", body = ErrorBody),
        (status = 422, description = "`invalid_last_event_id`", body = ErrorBody),
        (status = 429, description = "`too_many_streams`: the user holds `ORDER_EVENTS_PER_USER` streams already", body = ErrorBody),
    )
)]
#[instrument(skip_all, fields(order_id = %order_id, user_id))]
pub async fn order_events(
    State(state): State<AppState>,
    Path(order_id): Path<String>,
    request: Request,
) -> Result<Response> {
    let session = authenticate(&state.sessions, request.headers()).await?;
    tracing::Span::current().record("user_id", session.user_id.as_str());
    let order_id = OrderId::parse(order_id.as_str())
        .map_err(|_| ApiError::NotFound(format!("order {order_id}")))?;
    let resume = last_event_id(request.headers())?;
    let slot = state
        .order_events
        .slots
        .take(session.user_id.as_str())
        .ok_or(ApiError::TooManyStreams {
            limit: state.order_events.slots.per_user(),
        })?;
    // Subscribed before the status is read, so an outcome published in between is not missed
    // (it may arrive twice; a status is idempotent on the page).
    let live = state.order_events.subscribe();
    let current = match current_status(&state, &session.user_id, &order_id, request).await? {
        Ok(status) => status,
        Err(refusal) => return Ok(refusal),
    };
    let mut queued = VecDeque::new();
    if let Some(after) = resume {
        queued.extend(replay(&state, &order_id, &session.user_id, &after).await?);
    } else if !current.is_final() {
        // An outcome can be in the stream already while `orders` has not applied it yet: it was
        // published before this stream subscribed, so the live feed will not carry it.
        queued.extend(recent(&state, &order_id, &session.user_id).await?);
    }
    queued.push_front(Message::status(None, current));

    let stream = OrderStream {
        queued,
        live,
        state: state.clone(),
        order_id,
        user_id: session.user_id,
        finished: false,
        _slot: slot,
    };
    let mut response = Sse::new(stream.into_events())
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // Proxies must pass each event on as it comes, not buffer the stream.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

fn last_event_id(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(id) if is_entry_id(id.trim()) => Ok(Some(id.trim().to_owned())),
        Ok("") => Ok(None),
        _ => Err(ApiError::InvalidLastEventId),
    }
}

/// The order as `orders` reports it to its owner, with the decline reason from `payments` when it
/// was declined. An answer other than 200 (404 for someone else's order, 503, ...) is relayed.
async fn current_status(
    state: &AppState,
    user: &UserId,
    order_id: &OrderId,
    request: Request,
) -> Result<std::result::Result<OrderStatusEvent, Response>> {
    // The bearer token stays here: orders learns the caller from `x-user-id` alone.
    let mut outgoing = state
        .proxy
        .outgoing(request, Some(user), None, false)
        .await?;
    outgoing.method = Method::GET;
    outgoing.path_and_query = format!("/api/orders/{}", order_id.as_str());
    outgoing.headers.remove("last-event-id");
    outgoing
        .headers
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let timeout = outgoing.timeout;
    let order = match json_of(state.proxy.send(Upstream::Orders, outgoing).await?).await? {
        Ok(order) => order,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let code = order["orderStatusCode"].as_i64().unwrap_or(1);
    let mut status = OrderStatusEvent {
        order_id: order_id.as_str().to_owned(),
        status: order["status"].as_str().unwrap_or("created").to_owned(),
        order_status_code: i32::try_from(code).unwrap_or(1),
        payment_id: order["paymentId"].as_str().map(str::to_owned),
        reason: None,
    };
    if status.order_status_code == -3 {
        let outgoing = Outgoing {
            method: Method::GET,
            path_and_query: format!("/internal/payments/{}", order_id.as_str()),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timeout,
        };
        // The reason is a courtesy: without payments the status still stands.
        if let Ok(response) = state.proxy.send(Upstream::Payments, outgoing).await
            && let Ok(Ok(payment)) = json_of(response).await
        {
            status.reason = payment["reason"].as_str().map(str::to_owned);
        }
    }
    Ok(Ok(status))
}

/// A 200's JSON body, or the response itself when it is not a 200.
async fn json_of(response: Response) -> Result<std::result::Result<serde_json::Value, Response>> {
    if response.status() != StatusCode::OK {
        return Ok(Err(response));
    }
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|_| ApiError::Internal("reading an upstream answer".to_owned()))?;
    serde_json::from_slice(&bytes)
        .map(Ok)
        .map_err(|error| ApiError::Internal(format!("an upstream answer is not JSON: {error}")))
}

/// The outcomes of `order` after entry `after`, scanning at most `REPLAY_SCAN` entries.
async fn replay(
    state: &AppState,
    order: &OrderId,
    user: &UserId,
    after: &str,
) -> Result<Vec<Message>> {
    let page = shop_streams::read_page(
        &state.redis,
        &state.order_events.stream,
        Some(after),
        REPLAY_SCAN,
    )
    .await
    .map_err(|error| ApiError::RedisUnavailable(error.to_string()))?;
    Ok(page
        .into_iter()
        .filter_map(|(id, fields)| PaymentEntry::parse(id, &fields))
        .filter(|entry| entry.status.order_id == order.as_str() && entry.user_id == user.as_str())
        .map(|entry| Message::status(Some(entry.id), entry.status))
        .collect())
}

/// The outcomes of `order` among the stream's newest `REPLAY_SCAN` entries, oldest first.
async fn recent(state: &AppState, order: &OrderId, user: &UserId) -> Result<Vec<Message>> {
    let newest = state
        .redis
        .pool()
        .xrevrange_values::<String, String, String, _, _, _>(
            state.order_events.stream.as_str(),
            "+",
            "-",
            Some(REPLAY_SCAN),
        )
        .await
        .map_err(|error| ApiError::RedisUnavailable(error.to_string()))?;
    Ok(newest
        .into_iter()
        .rev()
        .filter_map(|(id, fields)| PaymentEntry::parse(id, &fields.into_iter().collect()))
        .filter(|entry| entry.status.order_id == order.as_str() && entry.user_id == user.as_str())
        .map(|entry| Message::status(Some(entry.id), entry.status))
        .collect())
}

/// One event to send.
#[derive(Debug)]
struct Message {
    id: Option<String>,
    status: OrderStatusEvent,
}

impl Message {
    fn status(id: Option<String>, status: OrderStatusEvent) -> Self {
        Self { id, status }
    }

    fn event(&self) -> Event {
        let event = Event::default().event("status");
        let event = match &self.id {
            Some(id) => event.id(id),
            None => event,
        };
        event
            .json_data(&self.status)
            .unwrap_or_else(|_| Event::default().comment("unserializable status"))
    }
}

/// What one open stream holds: the messages due, the live feed, and its slot.
struct OrderStream {
    queued: VecDeque<Message>,
    live: broadcast::Receiver<Arc<PaymentEntry>>,
    state: AppState,
    order_id: OrderId,
    user_id: UserId,
    finished: bool,
    _slot: Slot,
}

impl OrderStream {
    fn into_events(self) -> impl Stream<Item = std::result::Result<Event, Infallible>> + Send {
        futures::stream::unfold(self, |mut stream| async move {
            let message = stream.next().await?;
            stream.finished = message.status.is_final();
            Some((Ok(message.event()), stream))
        })
    }

    async fn next(&mut self) -> Option<Message> {
        if let Some(message) = self.queued.pop_front() {
            return Some(message);
        }
        if self.finished {
            return None;
        }
        loop {
            let received = tokio::select! {
                () = self.state.order_events.shutdown.cancelled() => return None,
                received = self.live.recv() => received,
            };
            match received {
                Ok(entry)
                    if entry.status.order_id == self.order_id.as_str()
                        && entry.user_id == self.user_id.as_str() =>
                {
                    return Some(Message::status(
                        Some(entry.id.clone()),
                        entry.status.clone(),
                    ));
                }
                Ok(_) => {}
                // Entries were missed: the order's own status says where it is now.
                Err(RecvError::Lagged(_)) => {
                    let request = Request::new(axum::body::Body::empty());
                    return match current_status(&self.state, &self.user_id, &self.order_id, request)
                        .await
                    {
                        Ok(Ok(status)) => Some(Message::status(None, status)),
                        _ => None,
                    };
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
