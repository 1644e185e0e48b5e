//! The reconciler: finishes, from MongoDB, whatever a crashed request, a slow relay or a lossy
//! Redis left undone, for every placement that has not settled yet.
//!
//! Every `RECONCILE_INTERVAL_MS` it reads the unfinished placements (a small collection: a
//! placement is removed once its order settles) and, for each:
//! - undecided and older than `PLACEMENT_TIMEOUT_MS`: rejects it (the fence: its request, if it is
//!   merely frozen, loses the decision when it wakes and writes no order);
//! - rejected: releases its stock in `products` (idempotent), then removes it;
//! - confirmed without its order (the request died between the decision and the insert): writes
//!   the order, exactly as the request would have;
//! - confirmed, order settled: removes it;
//! - confirmed, a settlement recorded while the relay still had the document: applies it;
//! - confirmed, announced, but unpaid `REANNOUNCE_AFTER_MS` after it was written or last
//!   re-announced: publishes its `OrderCreated` again, marked as a re-announcement, so that an
//!   event Redis acknowledged and then lost (an `appendfsync` window, a failover to a lagging
//!   replica) is carried after all. Consumers are idempotent; `payments` answers a re-announcement
//!   of an order it already charged by publishing that payment's `PaymentProcessed` again.
//!
//! Every replica runs it. Two passes over one placement are harmless: each step is a unique
//! insert, an idempotent call, or a write of the same values.

use shop_domain::OrderStatus;
use shop_streams::{Event, REANNOUNCED_FIELD, TRACEPARENT_FIELD};
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::config::millis;
use crate::place_order::{order_created, release_rejected, write_order};
use crate::store::{Fate, Placement};

/// What one pass did, by action (also counted in `orders_reconciler_*_total`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Placements looked at.
    pub seen: u64,
    /// Undecided placements rejected for their age.
    pub rejected: u64,
    /// Rejected placements whose stock was released.
    pub released: u64,
    /// Orders written from a confirmed fate.
    pub written: u64,
    /// Settlements applied to their order document.
    pub settled: u64,
    /// `OrderCreated` events published again.
    pub reannounced: u64,
    /// Placements whose work failed this pass (retried at the next).
    pub failed: u64,
}

/// Reconciles every `interval` until `shutdown`. Failures are logged and retried at the next pass.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = state.reconcile.interval;
    tracing::info!(
        interval_ms = interval.as_millis(),
        placement_timeout_ms = state.reconcile.placement_timeout.as_millis(),
        reannounce_after_ms = state.reconcile.reannounce_after.as_millis(),
        "reconciler started"
    );
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
        match reconcile_once(&state).await {
            Ok(pass) if pass.acted() => tracing::info!(?pass, "reconciler pass"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "reconciler pass failed; retrying"),
        }
    }
    tracing::info!("reconciler stopped");
}

impl Pass {
    /// Whether the pass did (or failed to do) anything beyond looking.
    pub fn acted(&self) -> bool {
        Self { seen: 0, ..*self } != Self::default()
    }
}

/// One pass over the unfinished placements.
pub async fn reconcile_once(state: &AppState) -> Result<Pass, mongodb::error::Error> {
    let placements = state.store.placements().await?;
    let now = bson::DateTime::now();
    let mut pass = Pass {
        seen: placements.len() as u64,
        ..Pass::default()
    };
    for placement in placements {
        match reconcile(state, &placement, now).await {
            Ok(action) => action.count(&mut pass),
            Err(error) => {
                pass.failed += 1;
                tracing::warn!(order_id = %placement.id, error = %error, "reconciling a placement; retrying at the next pass");
            }
        }
    }
    let metrics = &state.order_metrics.reconciler;
    metrics.rejected.inc_by(pass.rejected);
    metrics.released.inc_by(pass.released);
    metrics.written.inc_by(pass.written);
    metrics.settled.inc_by(pass.settled);
    metrics.reannounced.inc_by(pass.reannounced);
    metrics.failed.inc_by(pass.failed);
    metrics
        .unfinished
        .set(i64::try_from(pass.seen).unwrap_or(i64::MAX));
    Ok(pass)
}

/// What reconciling one placement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Nothing,
    Released { rejected_now: bool },
    ReleaseFailed { rejected_now: bool },
    Written,
    Finished,
    Settled,
    Reannounced,
}

impl Action {
    fn count(self, pass: &mut Pass) {
        match self {
            Self::Released { rejected_now } => {
                pass.released += 1;
                pass.rejected += u64::from(rejected_now);
            }
            Self::ReleaseFailed { rejected_now } => {
                pass.failed += 1;
                pass.rejected += u64::from(rejected_now);
            }
            Self::Written => pass.written += 1,
            Self::Settled => pass.settled += 1,
            Self::Reannounced => pass.reannounced += 1,
            Self::Nothing | Self::Finished => {}
        }
    }
}

async fn reconcile(
    state: &AppState,
    placement: &Placement,
    now: bson::DateTime,
) -> Result<Action, Box<dyn std::error::Error + Send + Sync>> {
    let id = &placement.id;
    let store = &state.store;
    let (fate, rejected_now) = match store.fate(id).await? {
        Some(fate) => (fate, false),
        None if placement.age_ms(now) >= millis(state.reconcile.placement_timeout) => {
            let fate = store
                .decide(
                    id,
                    Fate::rejected("not decided within PLACEMENT_TIMEOUT_MS"),
                )
                .await?;
            let now_rejected = matches!(fate, Fate::Rejected { .. });
            if now_rejected {
                tracing::warn!(order_id = %id, "placement abandoned by its request; rejected");
            }
            (fate, now_rejected)
        }
        None => return Ok(Action::Nothing),
    };
    let at = match &fate {
        Fate::Rejected { .. } => {
            return Ok(if release_rejected(state, id).await {
                Action::Released { rejected_now }
            } else {
                Action::ReleaseFailed { rejected_now }
            });
        }
        Fate::Confirmed { at, .. } => *at,
    };
    let Some(order) = store.order_state(id).await? else {
        write_order(state, placement, &fate).await?;
        tracing::warn!(order_id = %id, "confirmed placement had no order; written");
        return Ok(Action::Written);
    };
    if OrderStatus::from_code(order.order_status_code)?.is_terminal() {
        store.finish_placement(id).await?;
        return Ok(Action::Finished);
    }
    if order.unpublished() {
        return Ok(Action::Nothing); // the relay's to publish
    }
    if let Some(settlement) = store.settlement(id).await? {
        store.settle_order(&settlement).await?;
        store.finish_placement(id).await?;
        return Ok(Action::Settled);
    }
    let last = placement.announced_at.unwrap_or(at);
    let due_after = reannounce_delay(state.reconcile.reannounce_after, placement.announcements);
    if now.timestamp_millis() - last.timestamp_millis() < due_after {
        return Ok(Action::Nothing);
    }
    reannounce(state, placement, &fate, at).await?;
    Ok(Action::Reannounced)
}

/// How long after the last announcement the next one is due: `REANNOUNCE_AFTER_MS`, doubling with
/// each re-announcement up to 16 times that, so that while `payments` is down for long the stream
/// is not flooded with copies of every unpaid order.
fn reannounce_delay(after: std::time::Duration, announcements: i32) -> i64 {
    let factor = 1_i64 << announcements.clamp(0, 4);
    millis(after).saturating_mul(factor)
}

/// Publishes the order's `OrderCreated` again, marked as a re-announcement, and records it.
async fn reannounce(
    state: &AppState,
    placement: &Placement,
    fate: &Fate,
    at: bson::DateTime,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let Fate::Confirmed {
        lines,
        amount,
        traceparent,
        ..
    } = fate
    else {
        return Ok(());
    };
    let count = placement.announcements.saturating_add(1);
    let mut fields =
        order_created(&placement.id, &placement.user_id, lines, *amount, at).to_fields();
    fields.push(TRACEPARENT_FIELD, traceparent.as_str());
    fields.push(REANNOUNCED_FIELD, count.to_string());
    state
        .publisher
        .publish_fields(&state.streams.orders, fields)
        .await?;
    state.store.mark_announced(&placement.id, count).await?;
    tracing::warn!(order_id = %placement.id, count, "order unpaid for too long; OrderCreated re-announced");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::reannounce_delay;

    #[test]
    fn reannouncements_back_off_to_sixteen_times_the_first_delay() {
        let after = Duration::from_secs(60);
        let delays: Vec<i64> = (0..7).map(|n| reannounce_delay(after, n)).collect();

        assert_eq!(
            delays,
            [60_000, 120_000, 240_000, 480_000, 960_000, 960_000, 960_000]
        );
        assert_eq!(reannounce_delay(after, -1), 60_000);
    }
}
