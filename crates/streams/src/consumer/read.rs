//! The read loop: this consumer's pending entries once after a start, then new entries until
//! shutdown, with a claim pass every `claim_interval`; and how a read that hangs (shutdown, or a
//! server that stopped answering) is ended.

use std::sync::Arc;
use std::time::Duration;

use fred::error::ErrorKind;
use fred::prelude::{ClientInterface, ClientLike, StreamsInterface};
use fred::types::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::worker::{Source, Worker};
use super::{Consumer, millis, pause, reply};
use crate::{Event, StreamsError};

impl<E: Event> Consumer<E> {
    /// Reads this consumer's own pending entries once (`XREADGROUP ... 0`, recovery after a
    /// restart) until there are none left, or new entries (`>`) until shutdown, with a claim pass
    /// every `claim_interval` in between.
    ///
    /// Handler slots are taken before each read (and each claim) and no more entries are asked for
    /// than there are slots, so every entry starts its handler as soon as it arrives: none waits,
    /// ageing towards being claimed. One loop hands out the slots, so reads and claims never
    /// count the same free slot twice; a blocking read blocks no longer than until the next claim
    /// pass is due, so claims are never held up by an idle stream.
    pub(super) async fn read_loop(
        &self,
        worker: &Arc<Worker<E>>,
        blocking: &fred::clients::Client,
        shutdown: &CancellationToken,
        source: Source,
    ) {
        let history = source == Source::Pending;
        let mut cursor = if history { "0" } else { ">" }.to_owned();
        let mut next_claim = Instant::now();
        while !shutdown.is_cancelled() {
            if !history && Instant::now() >= next_claim {
                worker.claim_pass(shutdown).await;
                next_claim = Instant::now() + self.config.claim_interval;
                continue;
            }
            let Some(slots) = worker.reserve(self.config.batch_size, shutdown).await else {
                return;
            };
            // `BLOCK 0` would block forever: at least a millisecond.
            let until_claim = next_claim
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            let block = (!history).then(|| millis(self.config.block.min(until_claim)));
            let result = {
                let read = blocking.xreadgroup::<Value, _, _, _, _>(
                    self.config.group.as_str(),
                    self.config.consumer.as_str(),
                    Some(slots.len() as u64),
                    block,
                    false,
                    self.config.stream.as_str(),
                    cursor.as_str(),
                );
                tokio::pin!(read);
                tokio::select! {
                    result = &mut read => result,
                    _ = shutdown.cancelled() => {
                        let grace = self.redis.settings().command_timeout;
                        match interrupt(blocking, read, grace).await {
                            Some(result) => result,
                            None => return,
                        }
                    }
                }
            };
            let read_at = Instant::now();
            match result
                .map_err(StreamsError::from)
                .and_then(reply::read_group)
            {
                Ok(entries) if history && entries.is_empty() => return,
                Ok(entries) => {
                    let last_id = entries.iter().rev().find(|e| !e.id.is_empty());
                    let next = last_id.map(|entry| entry.id.clone());
                    worker.hand_over(entries, source, slots, read_at).await;
                    if history {
                        let Some(next) = next else {
                            // Without an id to go on from, re-reading would return the same entries.
                            tracing::warn!(stream = %self.config.stream,
                                "pending entries without usable ids; claim passes take over the rest");
                            return;
                        };
                        cursor = next;
                    }
                }
                Err(_) if shutdown.is_cancelled() => return,
                Err(error) => {
                    tracing::warn!(%error, stream = %self.config.stream, "reading the stream failed; retrying");
                    if is_timeout(&error) {
                        self.reconnect(blocking).await;
                    }
                    if error.to_string().contains("NOGROUP") {
                        // The stream or group vanished (e.g. Redis lost its data): recreate and go on.
                        let _ = self.ensure_group().await;
                    }
                    pause(shutdown).await;
                }
            }
        }
    }

    /// A read that timed out leaves its connection waiting for an answer, and fred never checks a
    /// connection that runs a blocking command for unresponsiveness: start a new connection, so a
    /// stalled server is left behind together with the reads it still owes (when it wakes up it
    /// sees them closed instead of handing them entries nobody waits for any more).
    async fn reconnect(&self, blocking: &fred::clients::Client) {
        let bound = self.redis.settings().command_timeout;
        match tokio::time::timeout(bound, blocking.force_reconnection()).await {
            Ok(Ok(())) => {
                tracing::info!(stream = %self.config.stream, "blocking connection reconnected")
            }
            Ok(Err(error)) => tracing::debug!(%error, "reconnecting the blocking connection"),
            Err(_) => tracing::debug!("reconnecting the blocking connection is still under way"),
        }
    }
}

/// Ends a blocking read early with `CLIENT UNBLOCK`, and returns what it returned: entries the server
/// had already handed over are still processed, so none are left behind unprocessed. `None` when the
/// read has not returned after `grace` (the server does not answer): entries it may yet receive
/// stay pending under this consumer and are claimed after `claim_idle`.
async fn interrupt<F>(
    blocking: &fred::clients::Client,
    read: std::pin::Pin<&mut F>,
    grace: Duration,
) -> Option<F::Output>
where
    F: Future,
{
    let unblock = async {
        loop {
            // The read may not have reached the server yet, so unblock until it returns.
            if let Err(error) = blocking.unblock_self(None).await {
                tracing::debug!(%error, "unblocking the stream read");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        result = read => Some(result),
        _ = unblock => None,
        () = tokio::time::sleep(grace) => {
            tracing::warn!(?grace, "the blocking read did not end after shutdown; abandoning it");
            None
        }
    }
}

fn is_timeout(error: &StreamsError) -> bool {
    matches!(error, StreamsError::Redis(e) if *e.kind() == ErrorKind::Timeout)
}
