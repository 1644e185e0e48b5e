//! What Redis itself says happened: how many events each order got on each stream, and which
//! consumers a group has. This is the tests' ground truth for "exactly once".

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use fred::interfaces::StreamsInterface;
use fred::types::Value;
use shop_streams::{Redis, read_all};

/// How many entries of `stream` carry each `orderId` (`OrderCreated` on `ORDERS_STREAM`,
/// `PaymentProcessed` on `PAYMENTS_STREAM`).
pub async fn events_per_order(redis: &Redis, stream: &str) -> Result<HashMap<String, usize>> {
    let mut counts = HashMap::new();
    for (id, fields) in read_all(redis, stream).await? {
        let order = fields
            .get("orderId")
            .with_context(|| format!("{stream} entry {id} has no orderId"))?;
        *counts.entry(order.to_owned()).or_default() += 1;
    }
    Ok(counts)
}

/// Asserts that each of `order_ids` has exactly one entry on `stream`, and no other order has
/// any (the stack is the test's own).
pub async fn assert_once_each(redis: &Redis, stream: &str, order_ids: &[String]) -> Result<()> {
    let counts = events_per_order(redis, stream).await?;
    let mut problems: Vec<String> = order_ids
        .iter()
        .filter_map(|id| match counts.get(id).copied().unwrap_or(0) {
            1 => None,
            n => Some(format!("{id}: {n}")),
        })
        .collect();
    problems.extend(
        counts
            .keys()
            .filter(|id| !order_ids.contains(id))
            .map(|id| format!("{id}: not an order of this test")),
    );
    if !problems.is_empty() {
        problems.sort();
        bail!(
            "{stream}: {} of {} orders without exactly one event: {}",
            problems.len(),
            order_ids.len(),
            problems
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// One consumer of a group, from `XINFO CONSUMERS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerInfo {
    pub name: String,
    pub pending: u64,
}

/// `XINFO CONSUMERS stream group`.
pub async fn consumers(redis: &Redis, stream: &str, group: &str) -> Result<Vec<ConsumerInfo>> {
    let reply: Value = redis.pool().xinfo_consumers(stream, group).await?;
    let Value::Array(consumers) = reply else {
        bail!("XINFO CONSUMERS: expected an array, got {reply:?}");
    };
    consumers
        .into_iter()
        .map(|consumer| {
            let pairs: Vec<(String, Value)> = match consumer {
                Value::Array(flat) => flat
                    .chunks(2)
                    .filter_map(|pair| Some((pair[0].as_string()?, pair.get(1)?.clone())))
                    .collect(),
                Value::Map(map) => map
                    .inner()
                    .into_iter()
                    .filter_map(|(key, value)| Some((key.as_str()?.to_string(), value)))
                    .collect(),
                other => bail!("XINFO CONSUMERS: unexpected entry {other:?}"),
            };
            let field = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, v)| v);
            Ok(ConsumerInfo {
                name: field("name")
                    .and_then(Value::as_string)
                    .context("consumer without name")?,
                pending: field("pending")
                    .and_then(Value::as_u64)
                    .context("consumer without pending")?,
            })
        })
        .collect()
}
