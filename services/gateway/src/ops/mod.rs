//! What operators see and do through the gateway: the state of each stream (length, memory, dead
//! letters, and each consumer group's pending entries and lag), and replaying dead letters.

pub mod dead_letters;
pub mod reply;
pub mod timeline;

use fred::prelude::{ClientLike, StreamsInterface};
use fred::types::Value;
use futures::future::try_join_all;
use serde::Serialize;
use shop_streams::events::{IDENTITY_STREAM, ORDERS_STREAM, PAYMENTS_STREAM};
use shop_streams::{Redis, StreamNames, dead_letter_stream};
use utoipa::ToSchema;

use crate::error::{ApiError, Result};

/// One stream, as `GET /api/ops/streams` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamReport {
    /// The stream's key, with the deployment's prefix.
    #[schema(example = "ORDERS_STREAM")]
    pub stream: String,
    /// Entries in the stream (0 when it does not exist yet).
    pub length: u64,
    #[schema(example = "1718000000000-0")]
    pub first_entry_id: Option<String>,
    pub last_entry_id: Option<String>,
    /// `MEMORY USAGE` of the stream's key.
    pub memory_bytes: u64,
    /// `memoryBytes / length` (0 for an empty stream): what one more entry costs, roughly.
    pub bytes_per_entry: u64,
    /// Entries in `<stream>:dlq`, waiting for an operator.
    pub dead_letters: u64,
    pub groups: Vec<GroupReport>,
}

/// One consumer group of a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupReport {
    #[schema(example = "payments")]
    pub name: String,
    pub consumers: u64,
    /// Delivered to a consumer, not acknowledged yet.
    pub pending: u64,
    /// Entries not delivered to the group yet; `null` when Redis cannot tell (entries were
    /// deleted from the middle of the stream).
    pub lag: Option<u64>,
    pub last_delivered_id: String,
}

/// The report of every stream of the deployment, in the order orders, payments, identity.
pub async fn stream_reports(redis: &Redis, names: &StreamNames) -> Result<Vec<StreamReport>> {
    try_join_all(
        [&names.orders, &names.payments, &names.identity]
            .map(|stream| stream_report(redis, stream)),
    )
    .await
}

/// One stream's report: four commands, sent together on the pipelined pool. A stream that does not
/// exist (nothing was ever published to it) reports zeroes, not an error.
async fn stream_report(redis: &Redis, stream: &str) -> Result<StreamReport> {
    let pool = redis.pool();
    let info = async {
        match pool.xinfo_stream::<Value, _>(stream, false, None).await {
            Ok(value) => reply::stream_info(value).map(Some).map_err(internal),
            Err(error) if reply::is_missing_key(&error) => Ok(None),
            Err(error) => Err(redis_failed(error)),
        }
    };
    let groups = async {
        match pool.xinfo_groups::<Value, _>(stream).await {
            Ok(value) => reply::groups(value).map_err(internal),
            Err(error) if reply::is_missing_key(&error) => Ok(Vec::new()),
            Err(error) => Err(redis_failed(error)),
        }
    };
    // `MEMORY` has no typed helper in fred's default interfaces.
    let memory = async {
        let value: Value = pool
            .custom(fred::cmd!("MEMORY"), vec!["USAGE", stream])
            .await
            .map_err(redis_failed)?;
        reply::memory_usage(&value).map_err(internal)
    };
    let dead_letters = async {
        pool.xlen::<u64, _>(dead_letter_stream(stream))
            .await
            .map_err(redis_failed)
    };
    let (info, groups, memory_bytes, dead_letters) =
        futures::try_join!(info, groups, memory, dead_letters)?;
    let info = info.unwrap_or_default();
    Ok(StreamReport {
        stream: stream.to_owned(),
        length: info.length,
        first_entry_id: info.first_entry_id,
        last_entry_id: info.last_entry_id,
        memory_bytes,
        bytes_per_entry: memory_bytes.checked_div(info.length).unwrap_or(0),
        dead_letters,
        groups,
    })
}

/// The stream `given` names: one of the documented names (`ORDERS_STREAM`, ...), mapped to this
/// deployment's prefixed key, or that prefixed key itself. Anything else names no stream of ours,
/// and replaying onto an arbitrary key is not something the endpoint should allow.
pub fn known_stream<'a>(names: &'a StreamNames, given: &str) -> Option<&'a str> {
    [
        (ORDERS_STREAM, &names.orders),
        (PAYMENTS_STREAM, &names.payments),
        (IDENTITY_STREAM, &names.identity),
    ]
    .into_iter()
    .find(|(documented, prefixed)| given == *documented || given == prefixed.as_str())
    .map(|(_, prefixed)| prefixed.as_str())
}

fn redis_failed(error: fred::error::Error) -> ApiError {
    ApiError::RedisUnavailable(error.to_string())
}

fn internal(error: reply::ReplyError) -> ApiError {
    ApiError::Internal(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_and_prefixed_names_map_to_the_prefixed_stream() {
        let names = StreamNames::with_prefix("t1:");

        assert_eq!(
            known_stream(&names, "ORDERS_STREAM"),
            Some("t1:ORDERS_STREAM")
        );
        assert_eq!(
            known_stream(&names, "t1:PAYMENTS_STREAM"),
            Some("t1:PAYMENTS_STREAM")
        );
        assert_eq!(
            known_stream(&names, "IDENTITY_STREAM"),
            Some("t1:IDENTITY_STREAM")
        );
        for unknown in [
            "orders",
            "ORDERS_STREAM:dlq",
            "t2:ORDERS_STREAM",
            "session:x",
            "",
        ] {
            assert_eq!(known_stream(&names, unknown), None, "{unknown}");
        }
    }
}
