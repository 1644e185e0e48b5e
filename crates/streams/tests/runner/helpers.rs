//! A test event, a fast-retrying runner configuration, and a harness per test stream.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fred::bytes::Bytes;
use fred::prelude::{KeysInterface, StreamsInterface};
use fred::types::Value;
use shop_streams::{
    Consumer, ConsumerConfig, DecodeError, Delivery, Event, Fields, HandlerError, Publisher, Redis,
    RedisSettings, RunnerMetrics,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The event these tests publish: a sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbered(pub u64);

impl Event for Numbered {
    const STREAM: &'static str = "TEST_STREAM";
    const TYPE: &'static str = "Numbered";

    fn encode(&self, fields: &mut Fields) {
        fields.push("n", self.0.to_string());
    }

    fn decode(fields: &Fields) -> Result<Self, DecodeError> {
        fields.parse("n").map(Numbered)
    }
}

/// One stream and group of its own, with a connection and a publisher.
pub struct TestStream {
    pub redis: Redis,
    pub stream: String,
    pub group: String,
    pub publisher: Publisher,
}

impl TestStream {
    pub async fn new() -> Self {
        let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
            .await
            .expect("the test Redis is reachable");
        Self::on(redis)
    }

    /// A stream of its own on another Redis (a private server the test controls).
    pub fn on(redis: Redis) -> Self {
        let stream = shop_testkit::unique_name("stream");
        Self {
            publisher: Publisher::new(redis.clone(), 100_000),
            redis,
            group: "testers".into(),
            stream,
        }
    }

    /// Retries after 300 ms of idleness, checks every 50 ms, three deliveries at most.
    pub fn config(&self) -> ConsumerConfig {
        let mut config = ConsumerConfig::new(&self.stream, &self.group);
        config.claim_idle = Duration::from_millis(300);
        config.claim_interval = Duration::from_millis(50);
        config.handler_timeout = Duration::from_millis(250);
        config.block = Duration::from_millis(500);
        config.max_deliveries = 3;
        config
    }

    pub async fn publish(&self, numbers: impl IntoIterator<Item = u64>) -> Vec<String> {
        let events: Vec<Numbered> = numbers.into_iter().map(Numbered).collect();
        self.publisher
            .publish_batch(&self.stream, &events)
            .await
            .expect("publish")
    }

    pub async fn publish_raw(&self, pairs: &[(&str, &str)]) -> String {
        let fields = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.publisher
            .publish_fields(&self.stream, fields)
            .await
            .expect("publish raw")
    }

    /// Appends an entry of raw bytes, which need not be UTF-8.
    pub async fn publish_bytes(&self, pairs: &[(&[u8], &[u8])]) -> String {
        let pairs: Vec<(Bytes, Bytes)> = pairs
            .iter()
            .map(|(k, v)| (Bytes::copy_from_slice(k), Bytes::copy_from_slice(v)))
            .collect();
        self.redis
            .pool()
            .xadd(self.stream.as_str(), false, None, "*", pairs)
            .await
            .expect("XADD raw bytes")
    }

    /// Creates the group (from the start of the stream) if it does not exist yet.
    pub async fn create_group(&self) {
        let created: Result<Value, _> = self
            .redis
            .pool()
            .xgroup_create(self.stream.as_str(), self.group.as_str(), "0", true)
            .await;
        if let Err(error) = created {
            assert!(error.to_string().contains("BUSYGROUP"), "{error}");
        }
    }

    /// Reads every new entry as `consumer` without handling or acknowledging anything: what a
    /// consumer that dies right after its read leaves behind. Returns how many it took.
    pub async fn take_as(&self, consumer: &str) -> usize {
        self.create_group().await;
        let reply: Value = self
            .redis
            .pool()
            .xreadgroup(
                self.group.as_str(),
                consumer,
                Some(10_000),
                None,
                false,
                self.stream.as_str(),
                ">",
            )
            .await
            .expect("XREADGROUP");
        // `[[stream, [[id, fields], ...]]]`; only the count matters here.
        match reply {
            Value::Array(streams) => streams
                .into_iter()
                .filter_map(|s| match s {
                    Value::Array(mut kv) if kv.len() == 2 => match kv.swap_remove(1) {
                        Value::Array(entries) => Some(entries.len()),
                        _ => None,
                    },
                    _ => None,
                })
                .sum(),
            _ => 0,
        }
    }

    /// Starts a runner; cancel the token to stop it, await the handle to see it finish.
    pub fn spawn<H, Fut>(&self, config: ConsumerConfig, handler: H) -> Runner
    where
        H: Fn(Delivery<Numbered>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        let metrics = RunnerMetrics::default();
        let consumer = Consumer::<Numbered>::new(self.redis.clone(), config, metrics.clone())
            .expect("valid config");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(consumer.run(handler, shutdown.clone()));
        Runner {
            shutdown,
            task,
            metrics,
        }
    }

    /// Entries delivered to the group and not acknowledged (the `XPENDING` summary count).
    pub async fn pending(&self) -> u64 {
        let summary: Value = self
            .redis
            .pool()
            .xpending(self.stream.as_str(), self.group.as_str(), ())
            .await
            .expect("XPENDING");
        match summary {
            Value::Array(parts) => parts.first().and_then(Value::as_u64).unwrap_or(0),
            _ => 0,
        }
    }

    pub async fn len(&self, key: &str) -> u64 {
        self.redis.pool().xlen(key).await.expect("XLEN")
    }

    pub fn dlq(&self) -> String {
        shop_streams::dead_letter_stream(&self.stream)
    }

    /// The dead-letter entries, as field lists.
    pub async fn dead_letters(&self) -> Vec<Fields> {
        let raw: Vec<(String, Vec<(String, String)>)> = self
            .redis
            .pool()
            .xrange(self.dlq(), "-", "+", None)
            .await
            .expect("XRANGE");
        raw.into_iter()
            .map(|(_, fields)| fields.into_iter().collect())
            .collect()
    }

    /// The dead-letter entries' `originalId`s, in order.
    pub async fn dead_letter_ids(&self) -> Vec<String> {
        self.dead_letters()
            .await
            .iter()
            .filter_map(|f| f.get("originalId").map(str::to_owned))
            .collect()
    }

    pub async fn cleanup(&self) {
        let _: Result<u64, _> = self
            .redis
            .pool()
            .del(vec![self.stream.clone(), self.dlq()])
            .await;
    }
}

pub struct Runner {
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<(), shop_streams::StreamsError>>,
    pub metrics: RunnerMetrics,
}

impl Runner {
    pub fn processed(&self) -> u64 {
        self.metrics.processed.get()
    }

    /// Graceful stop: cancel, then wait for the runner to finish.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let finished = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        assert!(
            matches!(finished, Ok(Ok(Ok(())))),
            "runner did not stop cleanly: {finished:?}"
        );
    }
}

/// Polls `condition` every 20 ms until it holds; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A shared counter for handlers.
#[derive(Clone, Default)]
pub struct Count(Arc<AtomicU64>);

impl Count {
    pub fn bump(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A handler error carrying a message.
pub fn fail(message: &str) -> Result<(), HandlerError> {
    Err(message.to_owned().into())
}
