//! Claim passes, run by the read loop every `claim_interval`: `XAUTOCLAIM` takes over entries idle
//! longer than `claim_idle` (failed ones waiting for their retry, and those of dead consumers),
//! then the lag and pending gauges are refreshed.

use std::sync::Arc;

use fred::prelude::StreamsInterface;
use fred::types::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::worker::{Source, Worker};
use super::{millis, pause, reply};
use crate::{Event, StreamsError};

impl<E: Event> Worker<E> {
    /// One claim pass, then the gauges; failures are logged, and the next pass tries again.
    pub(super) async fn claim_pass(self: &Arc<Self>, shutdown: &CancellationToken) {
        if let Err(error) = self.claim_idle(shutdown).await {
            tracing::warn!(%error, stream = %self.config.stream, "claiming idle entries failed");
            pause(shutdown).await;
        }
        if let Err(error) = self.refresh_gauges().await {
            tracing::debug!(%error, "refreshing stream gauges failed");
        }
    }

    async fn claim_idle(
        self: &Arc<Self>,
        shutdown: &CancellationToken,
    ) -> Result<(), StreamsError> {
        let config = &self.config;
        let mut cursor = "0-0".to_owned();
        loop {
            // Slots first, and no more claimed than there are: a claim restarts the entry's idle
            // time, so its handler must start at once or it ages towards being claimed again.
            let Some(slots) = self.reserve(config.batch_size, shutdown).await else {
                return Ok(());
            };
            let raw: Value = self
                .redis
                .pool()
                .xautoclaim(
                    config.stream.as_str(),
                    config.group.as_str(),
                    config.consumer.as_str(),
                    millis(config.claim_idle),
                    cursor.as_str(),
                    Some(slots.len() as u64),
                    false,
                )
                .await?;
            let read_at = Instant::now();
            let claimed = reply::auto_claim(raw)?;
            self.acknowledge_deleted(claimed.deleted).await;
            self.hand_over(claimed.entries, Source::Claimed, slots, read_at)
                .await;
            if claimed.cursor == "0-0" || shutdown.is_cancelled() {
                return Ok(());
            }
            cursor = claimed.cursor;
        }
    }

    async fn refresh_gauges(&self) -> Result<(), StreamsError> {
        let raw: Value = self
            .redis
            .pool()
            .xinfo_groups(self.config.stream.as_str())
            .await?;
        if let Some((lag, pending)) = reply::group_info(raw, &self.config.group)? {
            if let Some(lag) = lag {
                self.metrics.lag.set(i64::try_from(lag).unwrap_or(i64::MAX));
            }
            self.metrics
                .pending
                .set(i64::try_from(pending).unwrap_or(i64::MAX));
        }
        Ok(())
    }
}
