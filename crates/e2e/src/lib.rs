#![doc = include_str!("../README.md")]

mod direct;
mod through_gateway;

use std::net::SocketAddr;
use std::time::Duration;

use mongodb::Database;
use reqwest::Url;
use secrecy::SecretString;
use shop_domain::Money;
use shop_streams::{ConsumerTuning, Redis, RedisSettings, StreamNames};
use shop_testkit::app::{LOCAL_ANY_PORT, TestApp, mongo_settings};

pub use products::Product;
pub use through_gateway::{Shopper, json_of};

/// The payment limit the shop runs with in these tests, as in production: 5,000.00.
pub const PAYMENT_MAX_AMOUNT: i64 = 500_000;

/// The operators' token of the gateway (`SHOP_ADMIN_TOKEN`).
pub const ADMIN_TOKEN: &str = "e2e-4f9c1a7b5d2e8f4061c3b9a7d5e2f8041c6b3a9d7e5f2c80";

/// The whole shop: `products`, `orders`, `payments`, `identity`, `order-history` and the `gateway`
/// in front of them, wired together on one stream prefix and one session prefix. `payments` can be
/// stopped and started again (on the same port, so the gateway still finds it); `order-history` can
/// be stopped.
#[derive(Debug)]
pub struct Shop {
    pub streams: StreamNames,
    pub products: TestApp,
    pub orders: TestApp,
    payments: Option<TestApp>,
    payments_config: payments::Config,
    /// The payments database, to count payments per order.
    pub payments_db: Database,
    pub identity: TestApp,
    order_history: Option<TestApp>,
    /// The only public entry point, as a client sees the shop.
    pub gateway: TestApp,
    pub redis: Redis,
}

impl Shop {
    /// Starts the six services with exactly `fixtures` in the catalog.
    ///
    /// # Panics
    ///
    /// When a service cannot be built (the test servers are unreachable).
    pub async fn start(fixtures: &[Product]) -> Self {
        Self::start_with(fixtures, |_| {}, |_| {}).await
    }

    /// [`Shop::start`], with identity's and the gateway's configurations changed by
    /// `tune_identity` and `tune_gateway` before they are built (their URLs, prefixes and databases already set).
    ///
    /// # Panics
    ///
    /// When a service cannot be built (the test servers are unreachable).
    pub async fn start_with(
        fixtures: &[Product],
        tune_identity: impl FnOnce(&mut identity::Config),
        tune_gateway: impl FnOnce(&mut gateway::Config),
    ) -> Self {
        let prefix = format!("{}:", shop_testkit::unique_name("e2e"));
        let streams = StreamNames::with_prefix(&prefix);
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
                products_url: url(&products),
                // Generous: the suite runs many servers at once on a small machine.
                products_timeout: Duration::from_secs(10),
                outbox_relay: true,
                consumer: ConsumerTuning::default(),
                reconcile: orders::ReconcileConfig::default(),
            })
            .await,
            |app| (app.port(), app.shutdown_token(), app.run_until_stopped()),
        );

        let mut identity_config = identity::Config {
            bind_addr: LOCAL_ANY_PORT,
            redis_url: redis_url(),
            mongo: mongo_settings("e2e_identity"),
            streams: streams.clone(),
            stream_max_len: 100_000,
            session_ttl: Duration::from_secs(3600),
            session_prefix: prefix.clone(),
            max_sessions_per_user: 10,
            throttle: identity::ThrottleSettings::default(),
            hashing: identity::HashingLimits::per_core(),
            consumer: ConsumerTuning::default(),
        };
        tune_identity(&mut identity_config);
        let identity = spawn(identity::Application::build(identity_config).await, |app| {
            (app.port(), app.shutdown_token(), app.run_until_stopped())
        });

        let order_history = spawn(
            order_history::Application::build(order_history::Config {
                bind_addr: LOCAL_ANY_PORT,
                redis_url: redis_url(),
                mongo: mongo_settings("e2e_order_history"),
                streams: streams.clone(),
                consumer: ConsumerTuning::default(),
                rebuild_timeout: Duration::from_secs(60),
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
            provider_latency: Duration::ZERO,
            consumer: ConsumerTuning::default(),
        };
        let payments_db = connect(&payments_config.mongo).await;
        let payments = spawn(
            payments::Application::build(payments_config.clone()).await,
            |app| (app.port(), app.shutdown_token(), app.run_until_stopped()),
        );

        let mut gateway_config = gateway::Config {
            upstreams: gateway::UpstreamUrls {
                identity: url(&identity),
                products: url(&products),
                orders: url(&orders),
                payments: url(&payments),
                order_history: url(&order_history),
            },
            // Above orders' products timeout: a slow reservation is orders' answer to give.
            upstream_timeout: Duration::from_secs(15),
            // Tests poll through the gateway; a limit would only make them flaky.
            rate_limit: None,
            admin_token: SecretString::from(ADMIN_TOKEN),
            session_prefix: prefix,
            streams: streams.clone(),
            stream_max_len: 100_000,
            ..gateway_defaults()
        };
        tune_gateway(&mut gateway_config);
        let gateway = spawn(gateway::Application::build(gateway_config).await, |app| {
            (app.port(), app.shutdown_token(), app.run_until_stopped())
        });

        // A restarted payments binds the port it had: the gateway's PAYMENTS_URL stays right.
        let payments_config = payments::Config {
            bind_addr: SocketAddr::new(LOCAL_ANY_PORT.ip(), port(&payments)),
            ..payments_config
        };
        Self {
            streams,
            products,
            orders,
            payments: Some(payments),
            payments_config,
            payments_db,
            identity,
            order_history: Some(order_history),
            gateway,
            redis,
        }
    }

    /// Starts `payments` again on the same database, streams and port: a restarted deployment.
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
        stop(self.payments.take(), "payments").await;
    }

    /// Stops `order-history` gracefully, for good.
    ///
    /// # Panics
    ///
    /// When it is not running or does not stop cleanly.
    pub async fn stop_order_history(&mut self) {
        stop(self.order_history.take(), "order-history").await;
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

/// The gateway's defaults (as with no variables set but the required admin token), on port 0
/// against the test Redis.
fn gateway_defaults() -> gateway::Config {
    let env = shop_config::Env::from_pairs([("SHOP_ADMIN_TOKEN", ADMIN_TOKEN)]);
    let defaults = gateway::Config::from_source(&env)
        .unwrap_or_else(|error| panic!("the gateway's defaults: {error}"));
    gateway::Config {
        bind_addr: LOCAL_ANY_PORT,
        redis_url: redis_url(),
        ..defaults
    }
}

fn url(app: &TestApp) -> Url {
    Url::parse(&app.address).unwrap_or_else(|error| panic!("{}: {error}", app.address))
}

fn port(app: &TestApp) -> u16 {
    url(app)
        .port()
        .unwrap_or_else(|| panic!("no port in {}", app.address))
}

async fn connect(settings: &shop_mongo::MongoSettings) -> Database {
    settings
        .connect("shop-e2e")
        .await
        .unwrap_or_else(|error| panic!("configuring MongoDB: {error:#}"))
}

async fn stop(app: Option<TestApp>, name: &str) {
    let app = app.unwrap_or_else(|| panic!("{name} is not running"));
    app.stop()
        .await
        .unwrap_or_else(|error| panic!("stopping {name}: {error:#}"));
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
