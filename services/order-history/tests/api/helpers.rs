//! `spawn_app()` for the health tests, and `TestHistory`: the service on a test's own streams and
//! database, a publisher standing in for `orders` and `payments`, and readers of what it serves.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use mongodb::Database;
use order_history::store::Store;
use order_history::{Application, Config, ConsumerTuning, HistoryItem, HistoryPage};
use secrecy::SecretString;
use shop_domain::events::{OrderCreated, OrderLine, PaymentProcessed};
use shop_domain::{Money, OrderId, OrderStatus, PaymentId, ProductId, Quantity, UserId};
use shop_streams::{Event, Fields, Publisher, Redis, RedisSettings, StreamNames};
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp};

/// How long an asynchronous effect may take before a test fails.
const DEADLINE: Duration = Duration::from_secs(15);

/// A configuration pointing at the test servers, with a database and streams no other test uses.
/// Retries are fast, but a handler gets a second rather than 250 ms: under a busy test run one
/// FerretDB write can take longer than that, and a spurious timeout would only slow a test down.
pub fn test_config() -> Config {
    Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: SecretString::from(shop_testkit::redis_url()),
        mongo: shop_testkit::app::mongo_settings("order_history"),
        streams: StreamNames::with_prefix(&format!("{}:", shop_testkit::unique_name("s"))),
        consumer: ConsumerTuning {
            handler_timeout: Duration::from_secs(1),
            claim_idle: Duration::from_millis(1500),
            ..ConsumerTuning::fast_retries()
        },
        rebuild_timeout: Duration::from_secs(30),
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

/// Polls `check` until it returns `Some`, failing the test after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Now, to the millisecond: what survives the trip through a stream entry.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub fn money(cents: i64) -> Money {
    Money::from_minor(cents).unwrap_or_else(|error| panic!("{error}"))
}

fn line(product: &str, qty: u32, cents: i64) -> OrderLine {
    OrderLine {
        product_id: ProductId::parse(product).unwrap_or_else(|error| panic!("{error}")),
        qty: Quantity::new(qty).unwrap_or_else(|error| panic!("{error}")),
        product_price: money(cents),
    }
}

/// An order of `user` placed at `at`: two of `sku-1` at 12.50 and one `sku-2` at `cents`.
pub fn order(user: &UserId, cents: i64, at: DateTime<Utc>) -> OrderCreated {
    OrderCreated {
        order_id: OrderId::generate(),
        user_id: user.clone(),
        order_amount: money(2 * 1250 + cents),
        products: vec![line("sku-1", 2, 1250), line("sku-2", 1, cents)],
        created_at: at,
    }
}

/// `payments`' verdict on `order`, decided at `at`.
pub fn payment(order: &OrderCreated, status: OrderStatus, at: DateTime<Utc>) -> PaymentProcessed {
    let paid = status == OrderStatus::Paid;
    PaymentProcessed {
        order_id: order.order_id.clone(),
        payment_id: PaymentId::generate(),
        user_id: order.user_id.clone(),
        order_status: status,
        paid_amount: if paid {
            order.order_amount
        } else {
            Money::ZERO
        },
        reason: (!paid).then(|| "amount_limit_exceeded".to_owned()),
        created_at: at,
    }
}

/// One test's world: the running service, its streams and database, and a publisher.
#[derive(Debug)]
pub struct TestHistory {
    pub app: TestApp,
    pub config: Config,
    pub redis: Redis,
    pub db: Database,
    pub store: Store,
    publisher: Publisher,
}

impl TestHistory {
    pub async fn spawn() -> Self {
        let config = test_config();
        let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
            .await
            .unwrap_or_else(|error| panic!("connecting to the test Redis: {error}"));
        let db = config
            .mongo
            .connect("order-history-tests")
            .await
            .unwrap_or_else(|error| panic!("configuring MongoDB: {error}"));
        Self {
            app: spawn_app_with(config.clone()).await,
            store: Store::new(&db),
            publisher: Publisher::new(redis.clone(), 10_000),
            redis,
            db,
            config,
        }
    }

    /// A second replica of the service: same database, same streams, same consumer group.
    pub async fn replica(&self) -> TestApp {
        spawn_app_with(self.config.clone()).await
    }

    /// Publishes `order` to the orders stream as `orders` does; returns the entry id.
    pub async fn publish_order(&self, order: &OrderCreated) -> String {
        self.publish(&self.config.streams.orders, order.to_fields())
            .await
    }

    /// Publishes `payment` to the payments stream as `payments` does; returns the entry id.
    pub async fn publish_payment(&self, payment: &PaymentProcessed) -> String {
        self.publish(&self.config.streams.payments, payment.to_fields())
            .await
    }

    pub async fn publish(&self, stream: &str, fields: Fields) -> String {
        self.publisher
            .publish_fields(stream, fields)
            .await
            .unwrap_or_else(|error| panic!("publishing to {stream}: {error}"))
    }

    /// `GET /api/order-history{query}` as `user` (no `x-user-id` when `None`).
    pub async fn history(&self, user: Option<&UserId>, query: &str) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .get(format!("{}/api/order-history{query}", self.app.address));
        if let Some(user) = user {
            request = request.header("x-user-id", user.as_str());
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET /api/order-history: {error}"))
    }

    /// One page of `user`'s history, which must be a 200.
    pub async fn page(&self, user: &UserId, query: &str) -> HistoryPage {
        let response = self.history(Some(user), query).await;
        assert_eq!(response.status(), 200, "GET /api/order-history{query}");
        response
            .json()
            .await
            .unwrap_or_else(|error| panic!("a history page: {error}"))
    }

    /// `user`'s whole history (up to 100 orders).
    pub async fn items(&self, user: &UserId) -> Vec<HistoryItem> {
        self.page(user, "?pageSize=100").await.items
    }

    /// Waits until `user`'s history satisfies `done`, and returns it.
    pub async fn items_when(
        &self,
        user: &UserId,
        what: &str,
        done: impl Fn(&[HistoryItem]) -> bool,
    ) -> Vec<HistoryItem> {
        eventually(what, || async {
            let items = self.items(user).await;
            done(&items).then_some(items)
        })
        .await
    }

    /// Waits until the service has handled `orders` entries of the orders stream and `payments` of
    /// the payments stream (duplicates and failures included), from its `/metrics`.
    pub async fn processed(&self, orders: u64, payments: u64) {
        eventually(
            &format!("{orders} orders and {payments} payments processed"),
            || async {
                let metrics = self.metrics().await;
                let count = |stream: &str| {
                    let series = format!(
                        "stream_processed_total{{stream=\"{stream}\",group=\"order-history\"}} "
                    );
                    metrics
                        .lines()
                        .find_map(|line| line.strip_prefix(&series))
                        .and_then(|value| value.trim().parse::<u64>().ok())
                        .unwrap_or(0)
                };
                (count(&self.config.streams.orders) == orders
                    && count(&self.config.streams.payments) == payments)
                    .then_some(())
            },
        )
        .await;
    }

    /// Stops the service gracefully; the test fails if it does not stop cleanly.
    pub async fn stop(self) {
        let stopped = self.app.stop().await;
        assert!(stopped.is_ok(), "stopping the app: {stopped:?}");
        self.redis.quit().await;
    }

    /// `POST /internal/rebuild`.
    pub async fn rebuild(&self) -> reqwest::Response {
        self.app
            .client
            .post(format!("{}/internal/rebuild", self.app.address))
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /internal/rebuild: {error}"))
    }

    pub async fn metrics(&self) -> String {
        self.app
            .get("/metrics")
            .await
            .text()
            .await
            .unwrap_or_default()
    }

    /// Every entry of `stream`, oldest first.
    pub async fn stream_entries(&self, stream: &str) -> Vec<Fields> {
        shop_streams::read_all(&self.redis, stream)
            .await
            .unwrap_or_else(|error| panic!("XRANGE {stream}: {error}"))
            .into_iter()
            .map(|(_, fields)| fields)
            .collect()
    }

    /// The generations that have collections in the test's database.
    pub async fn generations_present(&self) -> Vec<i64> {
        self.store
            .generations_present()
            .await
            .unwrap_or_else(|error| panic!("listing collections: {error}"))
    }
}
