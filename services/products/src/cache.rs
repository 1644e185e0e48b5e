//! Redis cache-aside for the read endpoints, with a TTL on every entry.
//!
//! Keys, under a namespace that includes the MongoDB database name (several deployments, or tests,
//! may share one Redis):
//! - `<ns>:product:<id>`: a [`Product`] with its stock, as JSON. A stock movement deletes exactly
//!   this key.
//! - `<ns>:list:v<version>:<query>`: a listing page as `{ids, total}` only. No filter depends on
//!   stock, so stock movements never invalidate listings; the products themselves are read through
//!   their own keys. Adding products bumps `<ns>:version`, which orphans every listing at once
//!   (orphans expire with their TTL).
//!
//! The cache is an optimisation, never a dependency: a Redis error is logged and reads fall back to
//! MongoDB. A known race: a fill that read MongoDB just before a stock movement can write its (now
//! stale) entry just after the movement deleted the key; the entry is then stale until its TTL.

use std::time::Duration;

use fred::prelude::KeysInterface;
use fred::types::Expiration;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use shop_streams::Redis;

use crate::product::Product;

/// A cache call slower than this is abandoned: a stalled Redis must not stall the catalog.
const CACHE_CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether a response was served entirely from Redis; the `X-Cache` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "HIT",
            Self::Miss => "MISS",
        }
    }
}

/// A cached listing page: which products, in order, and the total of the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    pub ids: Vec<String>,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    /// `product` (`GET /api/products/{id}`) or `list` (`GET /api/products`).
    kind: &'static str,
}

/// The cache of one application. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Cache {
    redis: Redis,
    namespace: String,
    ttl: Expiration,
    hits: Family<CacheLabels, Counter>,
    misses: Family<CacheLabels, Counter>,
}

impl Cache {
    /// A cache for `database`'s catalog; registers `cache_hits_total` and `cache_misses_total`.
    pub fn new(redis: Redis, database: &str, ttl: Duration, registry: &mut Registry) -> Self {
        let hits = Family::default();
        let misses = Family::default();
        registry.register(
            "cache_hits",
            "Responses served from Redis, by kind",
            hits.clone(),
        );
        registry.register(
            "cache_misses",
            "Responses that needed MongoDB, by kind",
            misses.clone(),
        );
        Self {
            redis,
            namespace: format!("products:{database}"),
            ttl: Expiration::EX(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(1)),
            hits,
            misses,
        }
    }

    /// Counts one response of `kind` (`"product"` or `"list"`).
    pub fn record(&self, kind: &'static str, status: CacheStatus) {
        let family = match status {
            CacheStatus::Hit => &self.hits,
            CacheStatus::Miss => &self.misses,
        };
        family.get_or_create(&CacheLabels { kind }).inc();
    }

    fn product_key(&self, id: &str) -> String {
        format!("{}:product:{id}", self.namespace)
    }

    fn version_key(&self) -> String {
        format!("{}:version", self.namespace)
    }

    fn list_key(&self, version: i64, query: &str) -> String {
        format!("{}:list:v{version}:{query}", self.namespace)
    }

    /// The cached products of `ids`, in order; `None` where missing (or for all, if Redis failed).
    pub async fn products(&self, ids: &[&str]) -> Vec<Option<Product>> {
        let keys: Vec<String> = ids.iter().map(|id| self.product_key(id)).collect();
        let values: Option<Vec<Option<String>>> = if keys.is_empty() {
            Some(Vec::new())
        } else {
            guarded("MGET products", self.redis.pool().mget(keys)).await
        };
        match values {
            Some(values) if values.len() == ids.len() => values
                .iter()
                .map(|v| v.as_deref().and_then(decode))
                .collect(),
            _ => vec![None; ids.len()],
        }
    }

    /// Writes `products` back, each with the TTL, in one pipelined round trip.
    pub async fn store_products(&self, products: &[Product]) {
        if products.is_empty() {
            return;
        }
        let pipeline = self.redis.pool().next().pipeline();
        for product in products {
            let Ok(json) = serde_json::to_string(product) else {
                continue;
            };
            let key = self.product_key(product.product_id.as_str());
            let queued: Result<(), _> = pipeline
                .set(key, json, Some(self.ttl.clone()), None, false)
                .await;
            if let Err(error) = queued {
                tracing::warn!(%error, "queueing a cache write");
                return;
            }
        }
        let _: Option<Vec<fred::types::Value>> =
            guarded("SET products", pipeline.all::<Vec<fred::types::Value>>()).await;
    }

    /// Drops a product's entry after its stock changed.
    pub async fn invalidate_product(&self, id: &str) {
        let _: Option<i64> =
            guarded("DEL product", self.redis.pool().del(self.product_key(id))).await;
    }

    /// The current listing version; `None` when Redis cannot say (listings then bypass the cache).
    pub async fn version(&self) -> Option<i64> {
        let version: Option<Option<i64>> =
            guarded("GET version", self.redis.pool().get(self.version_key())).await;
        version.map(|v| v.unwrap_or(0))
    }

    /// Orphans every cached listing: called when products were added.
    pub async fn bump_version(&self) {
        let _: Option<i64> =
            guarded("INCR version", self.redis.pool().incr(self.version_key())).await;
    }

    pub async fn list(&self, version: i64, query: &str) -> Option<ListEntry> {
        let value: Option<Option<String>> = guarded(
            "GET list",
            self.redis.pool().get(self.list_key(version, query)),
        )
        .await;
        value.flatten().as_deref().and_then(decode)
    }

    pub async fn store_list(&self, version: i64, query: &str, entry: &ListEntry) {
        let Ok(json) = serde_json::to_string(entry) else {
            return;
        };
        let key = self.list_key(version, query);
        let _: Option<()> = guarded(
            "SET list",
            self.redis
                .pool()
                .set(key, json, Some(self.ttl.clone()), None, false),
        )
        .await;
    }
}

/// Runs a cache call with a timeout; failures are logged and become `None` (a miss).
async fn guarded<T>(
    what: &str,
    call: impl Future<Output = Result<T, fred::error::Error>>,
) -> Option<T> {
    match tokio::time::timeout(CACHE_CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            tracing::warn!(%error, "cache {what} failed; using MongoDB");
            None
        }
        Err(_) => {
            tracing::warn!("cache {what} timed out; using MongoDB");
            None
        }
    }
}

/// An entry that no longer decodes (say, after a format change) is a miss, not an error.
fn decode<T: for<'de> Deserialize<'de>>(json: &str) -> Option<T> {
    serde_json::from_str(json).ok()
}
