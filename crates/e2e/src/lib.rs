#![doc = include_str!("../README.md")]

use std::time::Duration;

use bson::{Document, doc};
use mongodb::Database;
use reqwest::Url;
use secrecy::SecretString;
use serde_json::{Value, json};
use shop_domain::Money;
use shop_streams::{ConsumerTuning, Fields, Redis, RedisSettings, StreamNames};
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp, mongo_settings};

pub use products::Product;

/// The payment limit the shop runs with in these tests, as in production: 5,000.00.
pub const PAYMENT_MAX_AMOUNT: i64 = 500_000;

/// `products`, `orders` and `payments` wired together; `payments` can be stopped and started again.
#[derive(Debug)]
pub struct Shop {
    pub streams: StreamNames,
    pub products: TestApp,
    pub orders: TestApp,
    payments: Option<TestApp>,
    payments_config: payments::Config,
    /// The payments database, to count payments per order.
    pub payments_db: Database,
    pub redis: Redis,
}

impl Shop {
    /// Starts the three services with exactly `fixtures` in the catalog.
    ///
    /// # Panics
    ///
    /// When a service cannot be built (the test servers are unreachable).
    pub async fn start(fixtures: &[Product]) -> Self {
        let streams = StreamNames::with_prefix(&format!("{}:", shop_testkit::unique_name("e2e")));
        let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
            .await
            .unwrap_or_else(|error| panic!("connecting to the test Redis: {error}"));

        let products_config = products::Config {
            bind_addr: LOCAL_ANY_PORT,
            redis_url: redis_url(),
            mongo: mongo_settings("e2e_products"),
            streams: streams.clone(),
            cache_ttl: Duration::from_secs(60),
            seed_catalog: false,
            consumer: ConsumerTuning::default(),
        };
        let catalog = connect(&products_config.mongo).await;
        products::seed_products(&catalog, fixtures)
            .await
            .unwrap_or_else(|error| panic!("seeding the catalog: {error:#}"));
        let products = spawn(products::Application::build(products_config).await, |app| {
            (app.port(), app.shutdown_token(), app.run_until_stopped())
        });

        let orders = spawn(
            orders::Application::build(orders::Config {
                bind_addr: LOCAL_ANY_PORT,
                redis_url: redis_url(),
                mongo: mongo_settings("e2e_orders"),
                streams: streams.clone(),
                stream_max_len: 100_000,
                products_url: Url::parse(&products.address)
                    .unwrap_or_else(|error| panic!("{error}")),
                // Generous: the suite runs many servers at once on a small machine.
                products_timeout: Duration::from_secs(10),
                outbox_relay: true,
                consumer: ConsumerTuning::default(),
            })
            .await,
            |app| (app.port(), app.shutdown_token(), app.run_until_stopped()),
        );

        let payments_config = payments::Config {
            bind_addr: LOCAL_ANY_PORT,
            redis_url: redis_url(),
            mongo: mongo_settings("e2e_payments"),
            streams: streams.clone(),
            stream_max_len: 100_000,
            payment_max_amount: money(PAYMENT_MAX_AMOUNT),
            consumer: ConsumerTuning::default(),
        };
        let payments_db = connect(&payments_config.mongo).await;
        let mut shop = Self {
            streams,
            products,
            orders,
            payments: None,
            payments_config,
            payments_db,
            redis,
        };
        shop.start_payments().await;
        shop
    }

    /// Starts `payments` (again) on the same database and streams: a restarted deployment.
    ///
    /// # Panics
    ///
    /// When it is already running or cannot be built.
    pub async fn start_payments(&mut self) {
        assert!(self.payments.is_none(), "payments is already running");
        let built = payments::Application::build(self.payments_config.clone()).await;
        self.payments = Some(spawn(built, |app| {
            (app.port(), app.shutdown_token(), app.run_until_stopped())
        }));
    }

    /// Stops `payments` gracefully (SIGTERM's path): in-flight charges finish, nothing more is read.
    ///
    /// # Panics
    ///
    /// When it is not running or does not stop cleanly.
    pub async fn stop_payments(&mut self) {
        let payments = self
            .payments
            .take()
            .unwrap_or_else(|| panic!("payments is not running"));
        payments
            .stop()
            .await
            .unwrap_or_else(|error| panic!("stopping payments: {error:#}"));
    }

    /// `POST /api/orders` as `user`; asserts 201 and returns the order.
    ///
    /// # Panics
    ///
    /// When the order is not created.
    pub async fn place_order(&self, user: &str, lines: &[(&str, i64)]) -> Value {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(id, qty)| json!({ "productId": id, "qty": qty }))
            .collect();
        let response = self
            .orders
            .client
            .post(format!("{}/api/orders", self.orders.address))
            .header("x-user-id", user)
            .json(&json!({ "products": lines }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /api/orders: {error}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(status, 201, "POST /api/orders: {body}");
        body
    }

    /// `GET /api/orders/{id}` as `user`.
    ///
    /// # Panics
    ///
    /// When the order cannot be read.
    pub async fn order(&self, user: &str, order_id: &str) -> Value {
        let response = self
            .orders
            .client
            .get(format!("{}/api/orders/{order_id}", self.orders.address))
            .header("x-user-id", user)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET /api/orders/{order_id}: {error}"));
        assert_eq!(response.status(), 200, "GET /api/orders/{order_id}");
        response.json().await.unwrap_or_default()
    }

    /// Waits until the order has left `created`, and returns it.
    pub async fn settled(&self, user: &str, order_id: &str) -> Value {
        shop_testkit::eventually(&format!("order {order_id} to settle"), || async {
            let order = self.order(user, order_id).await;
            (order["status"] != "created").then_some(order)
        })
        .await
    }

    /// `stockQty` of a product as `GET /api/products/{id}` reports it.
    ///
    /// # Panics
    ///
    /// When the product cannot be read.
    pub async fn stock(&self, product_id: &str) -> i64 {
        let product: Value = self
            .products
            .get(&format!("/api/products/{product_id}"))
            .await
            .json()
            .await
            .unwrap_or_default();
        product["stockQty"]
            .as_i64()
            .unwrap_or_else(|| panic!("no stockQty in {product}"))
    }

    /// The payment documents stored for `order_id` (`_id` is the order id: one, when all is well).
    ///
    /// # Panics
    ///
    /// When the payments database cannot be read.
    pub async fn payments_for(&self, order_id: &str) -> u64 {
        self.count_payments(doc! { "_id": order_id }).await
    }

    /// Every payment document stored.
    pub async fn payments_total(&self) -> u64 {
        self.count_payments(doc! {}).await
    }

    async fn count_payments(&self, filter: Document) -> u64 {
        self.payments_db
            .collection::<Document>(payments::COLLECTION)
            .count_documents(filter)
            .await
            .unwrap_or_else(|error| panic!("counting payments: {error}"))
    }

    /// Every entry of `stream`, oldest first.
    ///
    /// # Panics
    ///
    /// When Redis cannot be read.
    pub async fn entries(&self, stream: &str) -> Vec<Fields> {
        shop_streams::read_all(&self.redis, stream)
            .await
            .unwrap_or_else(|error| panic!("XRANGE {stream}: {error}"))
            .into_iter()
            .map(|(_, fields)| fields)
            .collect()
    }
}

/// A catalog product with the given price (cents) and stock.
///
/// # Panics
///
/// When `id` is not a valid product id.
pub fn product(id: &str, price: i64, stock: i64) -> Product {
    let product_id = id
        .parse()
        .unwrap_or_else(|error| panic!("product id {id}: {error}"));
    Product::new(product_id, format!("Product {id}"), money(price), stock)
}

fn money(cents: i64) -> Money {
    Money::from_minor(cents).unwrap_or_else(|error| panic!("{cents} cents: {error}"))
}

fn redis_url() -> SecretString {
    SecretString::from(shop_testkit::redis_url())
}

async fn connect(settings: &shop_mongo::MongoSettings) -> Database {
    settings
        .connect("shop-e2e")
        .await
        .unwrap_or_else(|error| panic!("configuring MongoDB: {error:#}"))
}

/// Serves a built application on its port; `parts` splits it into port, shutdown token and future.
fn spawn<A, F>(
    built: anyhow::Result<A>,
    parts: impl FnOnce(A) -> (u16, tokio_util::sync::CancellationToken, F),
) -> TestApp
where
    F: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let app = built.unwrap_or_else(|error| panic!("building a service: {error:#}"));
    let (port, token, run) = parts(app);
    TestApp::spawn(port, token, run)
}
