//! The ack task: whatever ids are waiting go out in one `XACK`, so acknowledging costs a round
//! trip per batch, not per entry.

use std::sync::Arc;

use fred::prelude::StreamsInterface;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{ConsumerConfig, pause};
use crate::Redis;

/// Acks are sent in batches of up to this many ids per `XACK`.
const ACK_BATCH: usize = 512;

/// Tries per batch while running.
const ATTEMPTS: u32 = 3;

/// Runs until every sender is gone. Once `shutdown` is cancelled each batch gets a single try, so
/// stopping stays bounded when Redis does not answer; what could not be acknowledged stays
/// pending, and is redelivered (handlers are idempotent).
pub(super) async fn ack_loop(
    redis: Redis,
    config: Arc<ConsumerConfig>,
    mut rx: mpsc::Receiver<String>,
    shutdown: CancellationToken,
) {
    let mut batch = Vec::with_capacity(ACK_BATCH);
    while rx.recv_many(&mut batch, ACK_BATCH).await > 0 {
        for attempt in 1..=ATTEMPTS {
            let acked: Result<u64, _> = redis
                .pool()
                .xack(config.stream.as_str(), config.group.as_str(), batch.clone())
                .await;
            match acked {
                Ok(_) => break,
                Err(error) if attempt == ATTEMPTS || shutdown.is_cancelled() => {
                    tracing::error!(%error, count = batch.len(),
                        "acknowledging failed; the entries stay pending and will be redelivered");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "acknowledging failed; retrying");
                    pause(&shutdown).await;
                }
            }
        }
        batch.clear();
    }
}
