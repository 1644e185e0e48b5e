//! After the load: wait for every order accepted in the recorded window to be paid or declined,
//! reading them back through the gateway, and take their order→paid latency from the shop's own
//! clock: `updatedAt − createdAt` of a paid order. `orders` sets `updatedAt` to `createdAt` on
//! insert and changes it only when the payment outcome moves the order out of `created`, so the
//! difference is exactly the asynchronous part of an order's journey (outbox → stream → payments →
//! stream → orders), measured without any polling delay.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;
use tokio::time::Instant;

use crate::client::{Gateway, OrderSummary, Session};
use crate::stats::{Latencies, Percentiles};
use crate::workload::PlacedOrder;

const PAGE_SIZE: u64 = 100;
/// Pause between two reads of the orders still in `created`. The latency comes from the shop's
/// timestamps, so polling faster would not make it more accurate, only load the shop that is still
/// settling the last orders.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Users whose orders are read at once.
const READ_CONCURRENCY: usize = 4;

/// How the recorded orders ended.
#[derive(Debug, Clone, Serialize)]
pub struct Settlement {
    pub placed: u64,
    pub paid: u64,
    pub payment_failed: u64,
    /// Still `created` when the settle timeout ran out: errors.
    pub unsettled: u64,
    /// Of the paid orders, `updatedAt − createdAt`.
    pub order_to_paid: Option<Percentiles>,
    /// How long after the load the last order was seen settled (or the timeout).
    pub waited_s: f64,
    /// Failed reads of the orders while waiting (retried; reported, not counted as order errors).
    pub read_errors: u64,
}

/// Reads the orders back until all are settled or `timeout` passes.
pub async fn settle(
    gateway: &Gateway,
    sessions: &[Session],
    orders: &[PlacedOrder],
    timeout: Duration,
) -> Settlement {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut pending: HashMap<usize, HashSet<&str>> = HashMap::new();
    for order in orders {
        pending
            .entry(order.user)
            .or_default()
            .insert(order.order_id.as_str());
    }
    let mut latencies = Latencies::default();
    let (mut paid, mut payment_failed, mut read_errors) = (0, 0, 0);

    loop {
        let rounds: Vec<(usize, Option<Vec<OrderSummary>>)> =
            futures::stream::iter(pending.iter().filter(|(_, ids)| !ids.is_empty()))
                .map(|(user, ids)| async move {
                    let read = match sessions.get(*user) {
                        Some(session) => settled_of(gateway, session, ids).await,
                        None => None,
                    };
                    (*user, read)
                })
                .buffer_unordered(READ_CONCURRENCY)
                .collect()
                .await;
        for (user, read) in rounds {
            let Some(settled) = read else {
                read_errors += 1;
                continue;
            };
            let ids = pending.entry(user).or_default();
            for order in settled {
                ids.remove(order.order_id.as_str());
                if order.status == "paid" {
                    paid += 1;
                    let micros = (order.updated_at - order.created_at)
                        .num_microseconds()
                        .unwrap_or(0);
                    latencies.record_micros(u64::try_from(micros).unwrap_or(0));
                } else {
                    payment_failed += 1;
                }
            }
        }
        let left: usize = pending.values().map(HashSet::len).sum();
        if left == 0 || Instant::now() >= deadline {
            return Settlement {
                placed: orders.len() as u64,
                paid,
                payment_failed,
                unsettled: left as u64,
                order_to_paid: latencies.summary(),
                waited_s: started.elapsed().as_secs_f64(),
                read_errors,
            };
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// The orders among `ids` that have left `created`, from the user's pages (newest first), read
/// until every one of `ids` has been seen.
async fn settled_of(
    gateway: &Gateway,
    session: &Session,
    ids: &HashSet<&str>,
) -> Option<Vec<OrderSummary>> {
    let mut settled = Vec::new();
    let mut seen = 0;
    for page in 1.. {
        let answer = gateway
            .orders(session, page, PAGE_SIZE)
            .await
            .inspect_err(|error| tracing::warn!(%error, "reading orders back"))
            .ok()?;
        let last = answer.items.len() < PAGE_SIZE as usize || page * PAGE_SIZE >= answer.total;
        for order in answer.items {
            if ids.contains(order.order_id.as_str()) {
                seen += 1;
                if order.status != "created" {
                    settled.push(order);
                }
            }
        }
        if last || seen == ids.len() {
            break;
        }
    }
    Some(settled)
}
