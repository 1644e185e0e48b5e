//! Live payment outcomes for the order pages: one reader per gateway replica follows
//! `PAYMENTS_STREAM` with plain `XREAD` (not a consumer group, so every replica sees every entry,
//! and reading acknowledges nothing) and fans each entry out on a broadcast channel to the
//! Server-Sent-Events streams of that replica. One blocking read per replica instead of one per
//! browser keeps Redis' connection count independent of the number of open order pages.

mod slots;

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::{ClientLike, StreamsInterface};
use serde::Serialize;
use shop_streams::{Fields, Redis};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

pub use slots::{Slot, Slots};

/// How long one `XREAD` blocks: short enough that a shutdown is noticed within it.
const BLOCK: Duration = Duration::from_secs(2);

/// Entries taken per `XREAD`.
const BATCH: u64 = 100;

/// Entries the broadcast channel holds for a slow subscriber before it lags (it then re-reads the
/// order's status instead of the entries it missed).
const CHANNEL: usize = 1024;

/// A payment outcome as an order page receives it (`event: status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusEvent {
    pub order_id: String,
    /// `created`, `paid` or `payment_failed`.
    #[schema(example = "paid")]
    pub status: String,
    pub order_status_code: i32,
    pub payment_id: Option<String>,
    /// Why a payment was declined (`amount_limit_exceeded`); absent otherwise.
    pub reason: Option<String>,
}

impl OrderStatusEvent {
    /// Whether the order can change no more: its stream has nothing left to say.
    pub fn is_final(&self) -> bool {
        self.order_status_code != 1
    }
}

/// One `PaymentProcessed` entry of the stream.
#[derive(Debug, Clone)]
pub struct PaymentEntry {
    /// The stream entry id: the SSE event id a client resumes from.
    pub id: String,
    pub user_id: String,
    pub status: OrderStatusEvent,
}

impl PaymentEntry {
    /// `None` for an entry that is not a well-formed `PaymentProcessed` (poison is the
    /// consumers' business; the pages just do not see it).
    pub fn parse(id: String, fields: &Fields) -> Option<Self> {
        fields.expect_type("PaymentProcessed").ok()?;
        let code: i32 = fields.get("orderStatusCode")?.parse().ok()?;
        let status = match code {
            3 => "paid",
            -3 => "payment_failed",
            _ => return None,
        };
        Some(Self {
            id,
            user_id: fields.get("userId")?.to_owned(),
            status: OrderStatusEvent {
                order_id: fields.get("orderId")?.to_owned(),
                status: status.to_owned(),
                order_status_code: code,
                payment_id: fields.get("paymentId").map(str::to_owned),
                reason: fields
                    .get("reason")
                    .filter(|reason| !reason.is_empty())
                    .map(str::to_owned),
            },
        })
    }
}

/// The replica's shared reader and its subscribers.
#[derive(Debug, Clone)]
pub struct PaymentEvents {
    sender: broadcast::Sender<Arc<PaymentEntry>>,
    /// Cancelled at shutdown: open streams end, so the graceful stop does not wait on them.
    pub shutdown: CancellationToken,
    /// Open streams per user (`ORDER_EVENTS_PER_USER`).
    pub slots: Slots,
    pub stream: String,
}

impl PaymentEvents {
    pub fn new(stream: String, per_user: usize, shutdown: CancellationToken) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL);
        Self {
            sender,
            shutdown,
            slots: Slots::new(per_user),
            stream,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<PaymentEntry>> {
        self.sender.subscribe()
    }

    /// Follows the stream until `shutdown`, from entries added after it starts. A failed read is
    /// retried a second later from the last entry seen, so an outage loses nothing it can replay.
    ///
    /// Never `XREAD ... $` in a loop: `$` means "after the newest entry *now*", so whatever is added
    /// between two reads would be skipped. The newest id is read once, and every read goes on from
    /// the last id seen.
    pub async fn follow(self, redis: Redis) {
        let mut last: Option<String> = None;
        let mut client = None;
        while !self.shutdown.is_cancelled() {
            if last.is_none() {
                match newest_id(&redis, &self.stream).await {
                    Ok(id) => last = Some(id),
                    Err(error) => {
                        tracing::warn!(%error, "order events: reading the stream's end");
                        self.pause().await;
                        continue;
                    }
                }
            }
            let Some(after) = last.clone() else {
                continue;
            };
            if client.is_none() {
                match redis.blocking_client(BLOCK).await {
                    Ok(connected) => client = Some(connected),
                    Err(error) => {
                        tracing::warn!(%error, "order events: connecting to Redis");
                        self.pause().await;
                        continue;
                    }
                }
            }
            let Some(reader) = client.as_ref() else {
                continue;
            };
            let read = tokio::select! {
                () = self.shutdown.cancelled() => break,
                read = reader.xread_map::<String, String, String, String, _, _>(
                    Some(BATCH),
                    Some(u64::try_from(BLOCK.as_millis()).unwrap_or(2_000)),
                    self.stream.as_str(),
                    after.as_str(),
                ) => read,
            };
            match read {
                Ok(streams) => {
                    for (id, fields) in streams.into_values().flatten() {
                        last = Some(id.clone());
                        let fields: Fields = fields.into_iter().collect();
                        if let Some(entry) = PaymentEntry::parse(id, &fields) {
                            // No subscriber is no error: nobody is watching an order right now.
                            let _ = self.sender.send(Arc::new(entry));
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "order events: XREAD failed; retrying");
                    if let Some(reader) = client.take() {
                        let _ = reader.quit().await;
                    }
                    self.pause().await;
                }
            }
        }
        if let Some(reader) = client {
            let _ = reader.quit().await;
        }
    }

    async fn pause(&self) {
        tokio::select! {
            () = self.shutdown.cancelled() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// The id of the stream's newest entry, or `0-0` when it has none (or does not exist yet).
async fn newest_id(redis: &Redis, stream: &str) -> Result<String, fred::error::Error> {
    let newest = redis
        .pool()
        .xrevrange_values::<String, String, String, _, _, _>(stream, "+", "-", Some(1))
        .await?;
    Ok(newest
        .into_iter()
        .next()
        .map_or_else(|| "0-0".to_owned(), |(id, _)| id))
}

/// Whether `id` is a stream entry id (`<ms>-<seq>`), the only thing `Last-Event-ID` may carry.
pub fn is_entry_id(id: &str) -> bool {
    id.split_once('-').is_some_and(|(ms, seq)| {
        !ms.is_empty()
            && !seq.is_empty()
            && ms.len() <= 20
            && seq.len() <= 20
            && ms.bytes().all(|b| b.is_ascii_digit())
            && seq.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_declined_payment_entry_carries_its_reason_and_is_final() {
        let entry = PaymentEntry::parse(
            "5-0".to_owned(),
            &fields(&[
                ("type", "PaymentProcessed"),
                ("orderId", "o-1"),
                ("userId", "u-1"),
                ("paymentId", "pay-1"),
                ("orderStatusCode", "-3"),
                ("reason", "amount_limit_exceeded"),
            ]),
        );

        let entry = entry.map(|e| (e.id, e.user_id, e.status));
        let Some((id, user, status)) = entry else {
            panic!("not parsed")
        };
        assert_eq!((id.as_str(), user.as_str()), ("5-0", "u-1"));
        assert_eq!(status.status, "payment_failed");
        assert_eq!(status.reason.as_deref(), Some("amount_limit_exceeded"));
        assert!(status.is_final());
    }

    #[test]
    fn entries_that_are_not_payment_outcomes_are_skipped() {
        for bad in [
            fields(&[("type", "OrderCreated"), ("orderId", "o"), ("userId", "u")]),
            fields(&[
                ("type", "PaymentProcessed"),
                ("orderId", "o"),
                ("orderStatusCode", "3"),
            ]),
            fields(&[
                ("type", "PaymentProcessed"),
                ("orderId", "o"),
                ("userId", "u"),
                ("orderStatusCode", "7"),
            ]),
            fields(&[("poison", "x")]),
        ] {
            assert!(
                PaymentEntry::parse("1-0".to_owned(), &bad).is_none(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn only_stream_entry_ids_are_accepted_as_last_event_ids() {
        assert!(is_entry_id("1718000000000-0"));
        for bad in ["", "-", "1-", "-1", "1", "$", "1-0\n", "a-1", "+", "(1-0"] {
            assert!(!is_entry_id(bad), "{bad:?}");
        }
    }
}
