//! The shop as these tests run it: `products` and `orders` in-process on port 0, each with a database
//! of its own, sharing a stream prefix no other test uses. Typed helpers for what tests do to them.

mod orders_app;
mod products_app;

use reqwest::Response;
use serde_json::{Value, json};
use shop_streams::StreamNames;

pub use orders_app::{TestOrders, spawn_app, spawn_app_with, test_config};
pub use products_app::{Product, TestProducts, fixture};

/// Both services, wired to each other and to one set of streams.
#[derive(Debug)]
pub struct TestShop {
    pub products: TestProducts,
    pub orders: TestOrders,
}

/// A stream prefix of its own, so parallel tests never read each other's entries.
pub fn unique_streams() -> StreamNames {
    StreamNames::with_prefix(&format!("{}:", shop_testkit::unique_name("s")))
}

impl TestShop {
    /// `products` with exactly `fixtures` in its catalog, and `orders` calling it.
    pub async fn spawn(fixtures: &[Product]) -> Self {
        Self::spawn_with(fixtures, |_| {}).await
    }

    /// As [`TestShop::spawn`], with the orders configuration adjusted by `adjust`.
    pub async fn spawn_with(
        fixtures: &[Product],
        adjust: impl FnOnce(&mut orders::Config),
    ) -> Self {
        let streams = unique_streams();
        let products = TestProducts::spawn(streams.clone(), fixtures).await;
        let mut config = test_config();
        config.streams = streams;
        config.products_url = products.url();
        adjust(&mut config);
        let orders = spawn_app_with(config).await;
        Self { products, orders }
    }
}

/// `{"products": [{"productId", "qty"}, ...]}`.
pub fn order_body(lines: &[(&str, i64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(id, qty)| json!({ "productId": id, "qty": qty }))
        .collect();
    json!({ "products": lines })
}

pub async fn body(response: Response) -> Value {
    response
        .json()
        .await
        .unwrap_or_else(|error| panic!("a JSON body: {error}"))
}

/// Asserts a shop error response: the status and `{"error":{"code","message"}}` with `code`;
/// returns the message.
pub async fn assert_error(response: Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "status of a {code} error");
    let body = body(response).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    message.to_owned()
}

pub use shop_testkit::eventually;
