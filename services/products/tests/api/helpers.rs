//! `spawn_app()`: the application on port 0 with a database and stream prefix of its own, and typed
//! helpers for what the tests do to it.

use std::time::Duration;

use mongodb::bson::doc;
use products::{Application, Config, Product};
use reqwest::Response;
use secrecy::SecretString;
use serde_json::{Value, json};
use shop_domain::events::PaymentProcessed;
use shop_domain::{Money, OrderId, OrderStatus, PaymentId, ProductId, UserId};
use shop_streams::{ConsumerTuning, Publisher, Redis, RedisSettings, StreamNames};
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp};

/// A configuration pointing at the test servers, with a database and streams no other test uses.
pub fn test_config() -> Config {
    Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: SecretString::from(shop_testkit::redis_url()),
        mongo: shop_testkit::app::mongo_settings("products"),
        streams: StreamNames::with_prefix(&format!("{}:", shop_testkit::unique_name("s"))),
        cache_ttl: Duration::from_secs(60),
        seed_catalog: true,
        consumer: ConsumerTuning::fast_retries(),
    }
}

/// A running `products` and what a test needs to drive and inspect it.
#[derive(Debug)]
pub struct ProductsApp {
    pub app: TestApp,
    pub config: Config,
    pub db: mongodb::Database,
    publisher: Publisher,
}

/// The app with the 300-product catalog seeded.
pub async fn spawn_app() -> ProductsApp {
    spawn_app_with(test_config()).await
}

/// The app with an empty catalog and just `fixtures`: small ledgers keep races fast on the test
/// server, which scans a collection per query.
pub async fn spawn_app_with_products(fixtures: &[Product]) -> ProductsApp {
    let app = spawn_app_with(Config {
        seed_catalog: false,
        ..test_config()
    })
    .await;
    app.seed(fixtures).await;
    app
}

pub async fn spawn_app_with(config: Config) -> ProductsApp {
    let app = Application::build(config.clone())
        .await
        .unwrap_or_else(|error| panic!("building the app: {error:#}"));
    let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
        .await
        .unwrap_or_else(|error| panic!("connecting to the test Redis: {error}"));
    let db = config
        .mongo
        .connect("products-tests")
        .await
        .unwrap_or_else(|error| panic!("connecting to the test MongoDB: {error}"));
    ProductsApp {
        app: TestApp::spawn(app.port(), app.shutdown_token(), app.run_until_stopped()),
        config,
        db,
        publisher: Publisher::new(redis, 10_000),
    }
}

/// `id` with `stock` units at 1999 cents.
pub fn fixture(id: &str, stock: i64) -> Product {
    Product::new(
        product_id(id),
        format!("Fixture {id}"),
        Money::from_minor(1999).unwrap_or_default(),
        stock,
    )
}

pub fn product_id(id: &str) -> ProductId {
    ProductId::parse(id).unwrap_or_else(|error| panic!("{id}: {error}"))
}

/// A fresh reservation (order) id.
pub fn new_id() -> String {
    OrderId::generate().to_string()
}

impl ProductsApp {
    pub async fn seed(&self, products: &[Product]) -> u64 {
        products::seed_products(&self.db, products)
            .await
            .unwrap_or_else(|error| panic!("seeding fixtures: {error:#}"))
    }

    pub async fn get_product(&self, id: &str) -> Response {
        self.app.get(&format!("/api/products/{id}")).await
    }

    /// `GET /api/products/{id}`, expecting 200: the body and the `X-Cache` header.
    pub async fn product(&self, id: &str) -> (Value, String) {
        let response = self.get_product(id).await;
        assert_eq!(response.status(), 200, "GET /api/products/{id}");
        let cache = x_cache(&response);
        (body(response).await, cache)
    }

    pub async fn list(&self, query: &str) -> Response {
        self.app.get(&format!("/api/products?{query}")).await
    }

    /// `GET /api/products?{query}`, expecting 200: the body and the `X-Cache` header.
    pub async fn list_ok(&self, query: &str) -> (Value, String) {
        let response = self.list(query).await;
        assert_eq!(response.status(), 200, "GET /api/products?{query}");
        let cache = x_cache(&response);
        (body(response).await, cache)
    }

    /// `POST /internal/reservations` with `lines` of `(productId, qty)`.
    pub async fn reserve(&self, reservation_id: &str, lines: &[(&str, i64)]) -> Response {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(id, qty)| json!({ "productId": id, "qty": qty }))
            .collect();
        self.post(
            "/internal/reservations",
            &json!({ "reservationId": reservation_id, "lines": lines }),
        )
        .await
    }

    pub async fn release(&self, reservation_id: &str) -> Response {
        self.post(
            &format!("/internal/reservations/{reservation_id}/release"),
            &json!({}),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.app
            .client
            .post(format!("{}{path}", self.app.address))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"))
    }

    /// The current stock straight from the ledger (no cache): the balance of the highest `seq`.
    pub async fn stock(&self, id: &str) -> i64 {
        let head = self
            .db
            .collection::<mongodb::bson::Document>("stock_movements")
            .find_one(doc! { "productId": id })
            .sort(doc! { "seq": -1 })
            .await
            .unwrap_or_else(|error| panic!("reading the ledger: {error}"));
        head.and_then(|h| h.get_i64("balance").ok())
            .unwrap_or_else(|| panic!("{id} has no stock movements"))
    }

    /// Publishes a `PaymentProcessed` for `order_id` to this app's payments stream.
    pub async fn publish_payment(&self, order_id: &str, status: OrderStatus) {
        let event = PaymentProcessed {
            order_id: OrderId::parse(order_id).unwrap_or_else(|error| panic!("{error}")),
            payment_id: PaymentId::generate(),
            user_id: UserId::generate(),
            order_status: status,
            paid_amount: Money::ZERO,
            reason: (status == OrderStatus::PaymentFailed).then(|| "amount_limit_exceeded".into()),
            created_at: chrono::Utc::now(),
        };
        self.publisher
            .publish(&self.config.streams.payments, &event)
            .await
            .unwrap_or_else(|error| panic!("publishing: {error}"));
    }

    /// Waits (at most 10 s) until the payments consumer has processed `count` entries.
    pub async fn wait_for_processed(&self, count: u64) {
        let line = format!(
            "stream_processed_total{{stream=\"{}\",group=\"products\"}} {count}",
            self.config.streams.payments
        );
        for _ in 0..200 {
            let metrics = self
                .app
                .get("/metrics")
                .await
                .text()
                .await
                .unwrap_or_default();
            if metrics.lines().any(|l| l == line) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the consumer did not process {count} entries in time");
    }
}

pub fn x_cache(response: &Response) -> String {
    response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub async fn body(response: Response) -> Value {
    response
        .json()
        .await
        .unwrap_or_else(|error| panic!("a JSON body: {error}"))
}

/// Asserts a shop error response: the status and `{"error":{"code","message"}}` with `code`.
pub async fn assert_error(response: Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "status of a {code} error");
    let body = body(response).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    message.to_owned()
}
