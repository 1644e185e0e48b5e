//! An order's timeline: every stream entry about it, from `ORDERS_STREAM`, `PAYMENTS_STREAM` and
//! their dead-letter streams, in time order, and for each entry of a live stream what every
//! consumer group has done with it: acknowledged, pending (with whom and how often delivered), or
//! not delivered yet. Redis keeps no per-entry acknowledgement, so it is derived: an entry at or
//! before a group's `last-delivered-id` that is not in the group's pending list was acknowledged.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use fred::prelude::StreamsInterface;
use fred::types::Value;
use serde::Serialize;
use shop_streams::{Redis, StreamNames, dead_letter_stream};
use utoipa::ToSchema;

use super::{GroupReport, dead_letters, reply};
use crate::error::{ApiError, Result};

/// Newest entries scanned per stream: the timeline is an operator's look at recent orders; a
/// stream of a million entries is not read whole for one request.
pub const SCAN_LIMIT: u64 = 20_000;

/// Entries per `XREVRANGE` round trip.
const PAGE: u64 = 1_000;

/// Pending entries read per group (`XPENDING`): more than this many unacknowledged entries is an
/// outage the stream report shows anyway.
const PENDING_LIMIT: u64 = 10_000;

/// One entry about the order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEvent {
    /// The stream key the entry is in (a `:dlq` one for dead letters).
    pub stream: String,
    pub id: String,
    /// Milliseconds since the epoch, from the entry id.
    pub at_ms: u64,
    /// `OrderCreated`, `PaymentProcessed`, ... (`null` for an entry without a type).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub fields: BTreeMap<String, String>,
    /// Set on dead letters: which group gave up and why.
    pub dead_letter: Option<DeadLetterInfo>,
    /// What each consumer group did with it (empty for dead letters: nothing consumes those).
    pub groups: Vec<GroupDelivery>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterInfo {
    pub group: Option<String>,
    pub original_id: Option<String>,
    pub deliveries: Option<u64>,
    pub error: Option<String>,
}

/// One group's handling of one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupDelivery {
    pub group: String,
    /// `acked`, `pending` or `undelivered`.
    pub state: DeliveryState,
    /// The consumer holding it, when pending.
    pub consumer: Option<String>,
    /// How often it was delivered, when pending.
    pub deliveries: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Acked,
    Pending,
    Undelivered,
}

/// A group's view of a stream: how far it got, and what it holds.
#[derive(Debug, Clone, Default)]
pub struct GroupProgress {
    pub name: String,
    pub last_delivered_id: String,
    /// Pending entry id → (consumer, deliveries).
    pub pending: HashMap<String, (String, u64)>,
}

impl GroupProgress {
    /// What this group did with entry `id`.
    pub fn delivery_of(&self, id: &str) -> GroupDelivery {
        let (state, consumer, deliveries) = match self.pending.get(id) {
            Some((consumer, deliveries)) => (
                DeliveryState::Pending,
                Some(consumer.clone()),
                Some(*deliveries),
            ),
            None if compare_ids(id, &self.last_delivered_id) != Ordering::Greater => {
                (DeliveryState::Acked, None, None)
            }
            None => (DeliveryState::Undelivered, None, None),
        };
        GroupDelivery {
            group: self.name.clone(),
            state,
            consumer,
            deliveries,
        }
    }
}

/// Every entry about `order_id` in the order and payment streams and their dead letters, oldest
/// first.
pub async fn events(
    redis: &Redis,
    names: &StreamNames,
    order_id: &str,
) -> Result<Vec<TimelineEvent>> {
    let mut events = Vec::new();
    for stream in [&names.orders, &names.payments] {
        let (entries, groups) = futures::try_join!(
            entries_about(redis, stream, order_id),
            group_progress(redis, stream)
        )?;
        events.extend(entries.into_iter().map(|(id, fields)| TimelineEvent {
            stream: stream.clone(),
            at_ms: id_millis(&id),
            kind: fields.get("type").cloned(),
            groups: groups.iter().map(|group| group.delivery_of(&id)).collect(),
            id,
            fields,
            dead_letter: None,
        }));
        let dlq = dead_letter_stream(stream);
        for (id, fields) in entries_about(redis, &dlq, order_id).await? {
            let letter = dead_letters::dead_letter(id, fields);
            events.push(TimelineEvent {
                stream: dlq.clone(),
                at_ms: id_millis(&letter.id),
                kind: letter.fields.get("type").cloned(),
                id: letter.id,
                fields: letter.fields,
                dead_letter: Some(DeadLetterInfo {
                    group: letter.group,
                    original_id: letter.original_id,
                    deliveries: letter.deliveries,
                    error: letter.error,
                }),
                groups: Vec::new(),
            });
        }
    }
    events.sort_by(|a, b| {
        a.at_ms
            .cmp(&b.at_ms)
            .then_with(|| compare_ids(&a.id, &b.id))
    });
    Ok(events)
}

/// The entries of `stream` whose `orderId` is `order_id`, among its newest `SCAN_LIMIT`.
async fn entries_about(
    redis: &Redis,
    stream: &str,
    order_id: &str,
) -> Result<Vec<(String, BTreeMap<String, String>)>> {
    let mut found = Vec::new();
    let mut end = "+".to_owned();
    let mut scanned = 0;
    while scanned < SCAN_LIMIT {
        let page = redis
            .pool()
            .xrevrange_values::<String, String, String, _, _, _>(
                stream,
                end.as_str(),
                "-",
                Some(PAGE),
            )
            .await
            .map_err(redis_failed)?;
        let Some((oldest, _)) = page.last() else {
            break;
        };
        end = format!("({oldest}");
        scanned += page.len() as u64;
        let full = page.len() as u64 == PAGE;
        found.extend(
            page.into_iter()
                .filter(|(_, fields)| fields.get("orderId").is_some_and(|id| id == order_id))
                .map(|(id, fields)| (id, fields.into_iter().collect())),
        );
        if !full {
            break;
        }
    }
    Ok(found)
}

/// Each group of `stream` with its last delivered id and pending entries.
async fn group_progress(redis: &Redis, stream: &str) -> Result<Vec<GroupProgress>> {
    let groups: Vec<GroupReport> = match redis.pool().xinfo_groups::<Value, _>(stream).await {
        Ok(value) => reply::groups(value).map_err(|e| ApiError::Internal(e.to_string()))?,
        Err(error) if reply::is_missing_key(&error) => Vec::new(),
        Err(error) => return Err(redis_failed(error)),
    };
    futures::future::try_join_all(groups.into_iter().map(|group| async move {
        let raw: Value = redis
            .pool()
            .xpending(stream, group.name.as_str(), ("-", "+", PENDING_LIMIT))
            .await
            .map_err(redis_failed)?;
        Ok(GroupProgress {
            pending: pending_entries(raw),
            name: group.name,
            last_delivered_id: group.last_delivered_id,
        })
    }))
    .await
}

/// `XPENDING key group - + n`: `[[id, consumer, idle ms, deliveries], ...]`.
fn pending_entries(raw: Value) -> HashMap<String, (String, u64)> {
    let Value::Array(rows) = raw else {
        return HashMap::new();
    };
    rows.into_iter()
        .filter_map(|row| {
            let Value::Array(cells) = row else {
                return None;
            };
            let id = cells.first()?.as_string()?;
            let consumer = cells.get(1)?.as_string()?;
            let deliveries = cells.get(3)?.as_u64()?;
            Some((id, (consumer, deliveries)))
        })
        .collect()
}

/// Stream ids in stream order (`<ms>-<seq>`, compared as numbers); a malformed one sorts first.
pub fn compare_ids(a: &str, b: &str) -> Ordering {
    parse_id(a).cmp(&parse_id(b))
}

fn parse_id(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

fn id_millis(id: &str) -> u64 {
    parse_id(id).0
}

fn redis_failed(error: fred::error::Error) -> ApiError {
    ApiError::RedisUnavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_as_numbers_not_text() {
        assert_eq!(compare_ids("9-0", "10-0"), Ordering::Less);
        assert_eq!(compare_ids("10-2", "10-10"), Ordering::Less);
        assert_eq!(compare_ids("10-1", "10-1"), Ordering::Equal);
    }

    #[test]
    fn an_entry_is_acked_pending_or_undelivered_by_the_groups_progress() {
        let group = GroupProgress {
            name: "payments".to_owned(),
            last_delivered_id: "20-0".to_owned(),
            pending: HashMap::from([("15-0".to_owned(), ("payments-1".to_owned(), 2))]),
        };

        assert_eq!(group.delivery_of("10-0").state, DeliveryState::Acked);
        assert_eq!(group.delivery_of("20-0").state, DeliveryState::Acked);
        let pending = group.delivery_of("15-0");
        assert_eq!(pending.state, DeliveryState::Pending);
        assert_eq!(pending.consumer.as_deref(), Some("payments-1"));
        assert_eq!(pending.deliveries, Some(2));
        assert_eq!(group.delivery_of("21-0").state, DeliveryState::Undelivered);
    }
}
