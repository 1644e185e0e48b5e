//! `spawn_app()` for the health tests, and `Harness`: a test's own streams and database, a way to
//! publish orders onto them, and readers of what the service wrote back.

use std::sync::Arc;

use bson::{Document, doc};
use fred::prelude::StreamsInterface;
use futures::TryStreamExt;
use mongodb::Collection;
use payments::{Application, Config, ConsumerTuning, PaymentProvider};
use secrecy::SecretString;
use shop_domain::events::{OrderCreated, OrderLine};
use shop_domain::{Money, OrderId, ProductId, Quantity, UserId};
use shop_streams::{
    Event, Fields, Publisher, Redis, RedisSettings, StreamNames, TRACEPARENT_FIELD, Traceparent,
    dead_letter_stream,
};
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp};

/// The limit every test runs with: 1,000.00.
pub const MAX_AMOUNT: i64 = 100_000;

/// A configuration pointing at the test servers, with a database and streams no other test uses
/// and retries fast enough for a test (a failed charge is retried after 300 ms).
pub fn test_config() -> Config {
    Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: SecretString::from(shop_testkit::redis_url()),
        mongo: shop_testkit::app::mongo_settings("payments"),
        streams: StreamNames::with_prefix(&format!("{}:", shop_testkit::unique_name("s"))),
        stream_max_len: 10_000,
        payment_max_amount: money(MAX_AMOUNT),
        provider_latency: std::time::Duration::ZERO,
        consumer: ConsumerTuning {
            concurrency: 8,
            ..ConsumerTuning::fast_retries()
        },
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    let app = Application::build(config)
        .await
        .unwrap_or_else(|error| panic!("building the app: {error:#}"));
    TestApp::spawn(app.port(), app.shutdown_token(), app.run_until_stopped())
}

pub fn money(cents: i64) -> Money {
    Money::from_minor(cents).unwrap_or_else(|error| panic!("{error}"))
}

/// A new order of `cents`, as `orders` would publish it.
pub fn order(cents: i64) -> OrderCreated {
    let qty = Quantity::new(1).unwrap_or_else(|error| panic!("{error}"));
    let product = ProductId::parse("sku-1").unwrap_or_else(|error| panic!("{error}"));
    OrderCreated {
        order_id: OrderId::generate(),
        user_id: UserId::generate(),
        order_amount: money(cents),
        products: vec![OrderLine {
            product_id: product,
            qty,
            product_price: money(cents),
        }],
        created_at: chrono::Utc::now(),
    }
}

pub use shop_testkit::eventually;

/// One test's world: its configuration (streams, database) and connections to look at both.
#[derive(Debug)]
pub struct Harness {
    pub config: Config,
    pub redis: Redis,
    pub payments: Collection<Document>,
    publisher: Publisher,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_config(test_config()).await
    }

    pub async fn with_config(config: Config) -> Self {
        let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
            .await
            .unwrap_or_else(|error| panic!("connecting to the test Redis: {error}"));
        let db = config
            .mongo
            .connect("payments-tests")
            .await
            .unwrap_or_else(|error| panic!("configuring MongoDB: {error}"));
        Self {
            payments: db.collection(payments::COLLECTION),
            publisher: Publisher::new(redis.clone(), 10_000),
            redis,
            config,
        }
    }

    /// The application with the simulated provider, on this harness's streams and database.
    pub async fn start(&self) -> TestApp {
        spawn_app_with(self.config.clone()).await
    }

    pub async fn start_with(&self, provider: Arc<dyn PaymentProvider>) -> TestApp {
        let app = Application::build_with_provider(self.config.clone(), provider)
            .await
            .unwrap_or_else(|error| panic!("building the app: {error:#}"));
        TestApp::spawn(app.port(), app.shutdown_token(), app.run_until_stopped())
    }

    /// Publishes `order` to the orders stream as `orders` does, with a new trace; returns the trace.
    pub async fn publish(&self, order: &OrderCreated) -> Traceparent {
        let traceparent = Traceparent::generate();
        let mut fields = order.to_fields();
        fields.push(TRACEPARENT_FIELD, traceparent.to_string());
        self.publish_fields(fields).await;
        traceparent
    }

    /// Publishes raw fields to the orders stream; returns the entry id.
    pub async fn publish_fields(&self, fields: Fields) -> String {
        self.publisher
            .publish_fields(&self.config.streams.orders, fields)
            .await
            .unwrap_or_else(|error| panic!("publishing to the orders stream: {error}"))
    }

    /// Publishes the same fields `copies` times in one pipelined round trip, so the consumer reads
    /// them together and charges them at the same time.
    pub async fn publish_copies(&self, order: &OrderCreated, copies: usize) {
        let orders = vec![order.clone(); copies];
        self.publisher
            .publish_batch(&self.config.streams.orders, &orders)
            .await
            .unwrap_or_else(|error| panic!("publishing to the orders stream: {error}"));
    }

    pub async fn payment_documents(&self) -> Vec<Document> {
        let read = async { self.payments.find(doc! {}).await?.try_collect().await };
        read.await
            .unwrap_or_else(|error: mongodb::error::Error| panic!("reading payments: {error}"))
    }

    /// Waits until `n` payments are stored and all of their events relayed, then returns the
    /// documents and every entry of the payments stream. Read after the relay is done, a duplicate
    /// entry could not still be on its way: the relay marks an entry sent only after publishing it.
    pub async fn settled(&self, n: usize) -> (Vec<Document>, Vec<Fields>) {
        let documents = eventually(&format!("{n} payments stored and relayed"), || async {
            let documents = self.payment_documents().await;
            let relayed = documents.iter().all(|d| {
                d.get_document("outbox")
                    .and_then(|o| o.get_bool("pending"))
                    .is_ok_and(|pending| !pending)
            });
            (documents.len() == n && relayed).then_some(documents)
        })
        .await;
        (documents, self.entries(&self.config.streams.payments).await)
    }

    /// The dead letters of the orders stream.
    pub async fn dead_letters(&self) -> Vec<Fields> {
        self.entries(&dead_letter_stream(&self.config.streams.orders))
            .await
    }

    pub async fn entries(&self, stream: &str) -> Vec<Fields> {
        shop_streams::read_all(&self.redis, stream)
            .await
            .unwrap_or_else(|error| panic!("XRANGE {stream}: {error}"))
            .into_iter()
            .map(|(_, fields)| fields)
            .collect()
    }

    /// `(entry id, delivery count)` of every entry pending in the `payments` group.
    pub async fn pending(&self) -> Vec<(String, u64)> {
        let pending: Vec<(String, String, u64, u64)> = self
            .redis
            .pool()
            .xpending(
                self.config.streams.orders.as_str(),
                payments::GROUP,
                ("-", "+", 100),
            )
            .await
            .unwrap_or_else(|error| panic!("XPENDING: {error}"));
        pending
            .into_iter()
            .map(|(id, _consumer, _idle, deliveries)| (id, deliveries))
            .collect()
    }
}

/// `GET /metrics` as text.
pub async fn metrics(app: &TestApp) -> String {
    app.get("/metrics").await.text().await.unwrap_or_default()
}
