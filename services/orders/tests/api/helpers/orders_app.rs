//! `orders` in-process, with typed requests and views of its database and streams.

use std::time::Duration;

use bson::{Document, doc};
use orders::{Application, Config, ConsumerTuning, IDEMPOTENCY_KEY_HEADER, Order, USER_ID_HEADER};
use reqwest::{Response, Url};
use secrecy::SecretString;
use serde_json::Value;
use shop_domain::events::PaymentProcessed;
use shop_streams::{Fields, Publisher, Redis, RedisSettings};
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp};

use super::{eventually, order_body, unique_streams};

/// A configuration pointing at the test servers, with a database and streams no other test uses.
/// `products_url` points at the default port; [`super::TestShop`] sets it to a spawned `products`.
pub fn test_config() -> Config {
    Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: SecretString::from(shop_testkit::redis_url()),
        mongo: shop_testkit::app::mongo_settings("orders"),
        streams: unique_streams(),
        stream_max_len: 10_000,
        products_url: Url::parse(orders::config::DEFAULT_PRODUCTS_URL)
            .unwrap_or_else(|error| panic!("{error}")),
        // Generous: the suite runs many servers at once on a small machine.
        products_timeout: Duration::from_secs(10),
        outbox_relay: true,
        // Fast retries, so poison entries reach the dead-letter stream in about a second.
        consumer: ConsumerTuning {
            claim_idle: Duration::from_millis(500),
            handler_timeout: Duration::from_millis(400),
            ..ConsumerTuning::fast_retries()
        },
        reconcile: orders::ReconcileConfig::default(),
    }
}

/// A running `orders` and what a test needs to drive and inspect it.
#[derive(Debug)]
pub struct TestOrders {
    pub app: TestApp,
    pub config: Config,
    pub db: mongodb::Database,
    pub redis: Redis,
}

pub async fn spawn_app() -> TestOrders {
    spawn_app_with(test_config()).await
}

pub async fn spawn_app_with(config: Config) -> TestOrders {
    let app = Application::build(config.clone())
        .await
        .unwrap_or_else(|error| panic!("building orders: {error:#}"));
    let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
        .await
        .unwrap_or_else(|error| panic!("connecting to the test Redis: {error}"));
    let db = config
        .mongo
        .connect("orders-tests")
        .await
        .unwrap_or_else(|error| panic!("connecting to the test MongoDB: {error}"));
    TestOrders {
        app: TestApp::spawn(app.port(), app.shutdown_token(), app.run_until_stopped()),
        config,
        db,
        redis,
    }
}

impl TestOrders {
    /// `POST /api/orders` as `user` (None: no `x-user-id`), with an optional `Idempotency-Key`.
    pub async fn create_order(
        &self,
        user: Option<&str>,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> Response {
        let mut request = self
            .app
            .client
            .post(format!("{}/api/orders", self.app.address))
            .json(body);
        if let Some(user) = user {
            request = request.header(USER_ID_HEADER, user);
        }
        if let Some(key) = idempotency_key {
            request = request.header(IDEMPOTENCY_KEY_HEADER, key);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /api/orders: {error}"))
    }

    /// Places an order of `lines` for `user`, expecting 201.
    pub async fn place(&self, user: &str, lines: &[(&str, i64)]) -> Order {
        let response = self
            .create_order(Some(user), &order_body(lines), None)
            .await;
        assert_eq!(response.status(), 201, "placing {lines:?}");
        response
            .json()
            .await
            .unwrap_or_else(|error| panic!("an Order body: {error}"))
    }

    /// `GET {path}` as `user`.
    pub async fn get_as(&self, user: &str, path: &str) -> Response {
        self.app
            .client
            .get(format!("{}{path}", self.app.address))
            .header(USER_ID_HEADER, user)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    /// The stored order document, outbox entry included.
    pub async fn stored(&self, order_id: &str) -> Document {
        self.db
            .collection::<Document>("orders")
            .find_one(doc! { "_id": order_id })
            .await
            .unwrap_or_else(|error| panic!("reading order {order_id}: {error}"))
            .unwrap_or_else(|| panic!("order {order_id} is not stored"))
    }

    /// Binds `key` of `user` to `order_id` for the request `canonical`, as an attempt that crashed
    /// after claiming the key would have left it.
    pub async fn bind_key(&self, user: &str, key: &str, canonical: &str, order_id: &str) {
        self.db
            .collection::<Document>("idempotency_keys")
            .insert_one(doc! {
                "_id": format!("{user}:{key}"),
                "request": canonical,
                "orderId": order_id,
                "createdAt": bson::DateTime::now(),
            })
            .await
            .unwrap_or_else(|error| panic!("binding {key}: {error}"));
    }

    /// The order id `key` of `user` is bound to, if the key is known.
    pub async fn bound_order(&self, user: &str, key: &str) -> Option<String> {
        self.db
            .collection::<Document>("idempotency_keys")
            .find_one(doc! { "_id": format!("{user}:{key}") })
            .await
            .unwrap_or_else(|error| panic!("reading {key}: {error}"))
            .and_then(|record| record.get_str("orderId").ok().map(str::to_owned))
    }

    pub async fn count_orders(&self) -> u64 {
        self.count(doc! {}).await
    }

    /// Orders whose `OrderCreated` is not published yet.
    pub async fn unpublished(&self) -> u64 {
        self.count(doc! { "outbox.pending": true }).await
    }

    async fn count(&self, filter: Document) -> u64 {
        self.db
            .collection::<Document>("orders")
            .count_documents(filter)
            .await
            .unwrap_or_else(|error| panic!("counting orders: {error}"))
    }

    /// Every entry of this app's orders stream, in order.
    pub async fn orders_stream(&self) -> Vec<Fields> {
        self.entries(&self.config.streams.orders).await
    }

    pub async fn entries(&self, stream: &str) -> Vec<Fields> {
        shop_streams::read_all(&self.redis, stream)
            .await
            .unwrap_or_else(|error| panic!("XRANGE {stream}: {error}"))
            .into_iter()
            .map(|(_, fields)| fields)
            .collect()
    }

    /// Waits until nothing is left to publish, then returns the orders stream.
    pub async fn published(&self) -> Vec<Fields> {
        eventually("the outbox to drain", || async {
            (self.unpublished().await == 0).then_some(())
        })
        .await;
        self.orders_stream().await
    }

    /// Publishes `event` to this app's payments stream, as `payments` would.
    pub async fn publish_payment(&self, event: &PaymentProcessed) {
        Publisher::new(self.redis.clone(), 10_000)
            .publish(&self.config.streams.payments, event)
            .await
            .unwrap_or_else(|error| panic!("publishing a payment: {error}"));
    }

    /// Waits until the payments consumer has handled `count` entries successfully.
    pub async fn wait_for_payments_handled(&self, count: u64) {
        let line = format!(
            "stream_processed_total{{stream=\"{}\",group=\"orders\"}} {count}",
            self.config.streams.payments
        );
        eventually(&format!("{count} payments handled"), || async {
            let metrics = self.metrics().await;
            metrics.lines().any(|l| l == line).then_some(())
        })
        .await;
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.app
            .get("/metrics")
            .await
            .text()
            .await
            .unwrap_or_default()
    }

    /// Stops the app gracefully, failing the test if it does not stop cleanly.
    pub async fn stop(self) {
        let stopped = self.app.stop().await;
        assert!(stopped.is_ok(), "stopping orders: {stopped:?}");
    }
}
