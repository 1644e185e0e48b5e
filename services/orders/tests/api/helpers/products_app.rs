//! `products`, spawned in-process with a catalog of fixtures: the real service `orders` calls.

use reqwest::Url;
use secrecy::SecretString;
use shop_config::Env;
use shop_domain::{Money, ProductId};
use shop_streams::StreamNames;
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp};

use super::body;

pub use products::Product;

#[derive(Debug)]
pub struct TestProducts {
    pub app: TestApp,
}

/// `id`, named `Product <id>`, at `price` cents with `stock` units.
pub fn fixture(id: &str, price: i64, stock: i64) -> Product {
    Product::new(
        ProductId::parse(id).unwrap_or_else(|error| panic!("{id}: {error}")),
        format!("Product {id}"),
        Money::from_minor(price).unwrap_or_else(|error| panic!("{price}: {error}")),
        stock,
    )
}

impl TestProducts {
    /// `products` on `streams` with only `fixtures` in its catalog (no seed catalog).
    pub async fn spawn(streams: StreamNames, fixtures: &[Product]) -> Self {
        let defaults = products::Config::from_source(&Env::from_pairs::<_, &str, &str>([]))
            .unwrap_or_else(|error| panic!("default products config: {error}"));
        let config = products::Config {
            bind_addr: LOCAL_ANY_PORT,
            redis_url: SecretString::from(shop_testkit::redis_url()),
            mongo: shop_testkit::app::mongo_settings("products"),
            streams,
            seed_catalog: false,
            ..defaults
        };
        let db = config
            .mongo
            .connect("orders-tests")
            .await
            .unwrap_or_else(|error| panic!("connecting to the test MongoDB: {error}"));
        products::seed_products(&db, fixtures)
            .await
            .unwrap_or_else(|error| panic!("seeding fixtures: {error:#}"));
        let app = products::Application::build(config)
            .await
            .unwrap_or_else(|error| panic!("building products: {error:#}"));
        Self {
            app: TestApp::spawn(app.port(), app.shutdown_token(), app.run_until_stopped()),
        }
    }

    /// Where `orders` reaches this instance (`PRODUCTS_URL`).
    pub fn url(&self) -> Url {
        Url::parse(&self.app.address).unwrap_or_else(|error| panic!("{error}"))
    }

    /// `stockQty` of `GET /api/products/{id}`: what the catalog shows.
    pub async fn stock(&self, id: &str) -> i64 {
        let response = self.app.get(&format!("/api/products/{id}")).await;
        assert_eq!(response.status(), 200, "GET /api/products/{id}");
        let product = body(response).await;
        product["stockQty"]
            .as_i64()
            .unwrap_or_else(|| panic!("no stockQty in {product}"))
    }

    /// Gives the stock of reservation (order) `id` back, as a failed payment would.
    pub async fn release(&self, id: &str) {
        let response = self.post_release(id).await;
        assert_eq!(response.status(), 200, "releasing {id}");
    }

    /// Ends reservation id `id` before anything was reserved under it (products answers 404 but
    /// remembers the id as released), as the compensation of a timed-out attempt may.
    pub async fn release_unused(&self, id: &str) {
        let response = self.post_release(id).await;
        assert_eq!(response.status(), 404, "releasing unused {id}");
    }

    async fn post_release(&self, id: &str) -> reqwest::Response {
        self.app
            .client
            .post(format!(
                "{}/internal/reservations/{id}/release",
                self.app.address
            ))
            .send()
            .await
            .unwrap_or_else(|error| panic!("releasing {id}: {error}"))
    }
}
