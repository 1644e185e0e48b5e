//! A service application running inside a test: `TestApp` serves it on its port 0 listener, and the
//! `assert_*` helpers check the health contract every service shares (live, ready, metrics, shutdown).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use shop_mongo::MongoSettings;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Where test applications listen: loopback, a port the OS picks.
pub const LOCAL_ANY_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// How long `stop` waits for the application to drain before the test fails.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A running application and a client for it. Dropped without `stop`, it dies with the test's runtime.
#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    /// Spawns `run` (an application's `run_until_stopped()`), already bound to `port` on loopback;
    /// `shutdown` is the token that stops it. Must be called inside a Tokio runtime.
    pub fn spawn<F>(port: u16, shutdown: CancellationToken, run: F) -> Self
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            shutdown,
            server: tokio::spawn(run),
        }
    }

    /// # Panics
    ///
    /// If the request cannot be sent (the application is not listening).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    /// Cancels the shutdown token and waits for the application to return, at most 10 s.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        tokio::time::timeout(STOP_TIMEOUT, self.server).await??
    }
}

/// A local address nothing listens on: bound, then released.
///
/// # Panics
///
/// If no loopback port can be bound.
pub async fn closed_local_address() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(LOCAL_ANY_PORT)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    listener
        .local_addr()
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Settings for the test MongoDB ([`mongodb_uri`](crate::mongodb_uri)) with a database no other test
/// uses, named after `prefix`.
#[must_use]
pub fn mongo_settings(prefix: &str) -> MongoSettings {
    MongoSettings {
        uri: SecretString::from(crate::mongodb_uri()),
        database: crate::unique_name(prefix),
        server_selection_timeout: shop_mongo::DEFAULT_SERVER_SELECTION_TIMEOUT,
    }
}

/// Settings pointing at a closed local port, giving up after 200 ms: MongoDB "down", quickly.
pub async fn unreachable_mongo(prefix: &str) -> MongoSettings {
    MongoSettings {
        uri: SecretString::from(format!("mongodb://{}/", closed_local_address().await)),
        server_selection_timeout: Duration::from_millis(200),
        ..mongo_settings(prefix)
    }
}

/// Asserts what every service serves, in the order a deployment meets it: `GET /health/live` is 200,
/// `GET /health/ready` is 200 with exactly `checks` up, `GET /metrics` counts the live request under
/// its route, and cancelling the shutdown token stops the application cleanly.
///
/// # Panics
///
/// On the first part of the contract the application breaks.
pub async fn assert_health_contract(app: TestApp, checks: &[&str]) {
    assert_eq!(
        app.get("/health/live").await.status(),
        200,
        "GET /health/live"
    );

    let up: Vec<_> = checks.iter().map(|name| (*name, "up")).collect();
    assert_readiness(&app, &up).await;

    let metrics = app.get("/metrics").await.text().await.unwrap_or_default();
    assert!(
        metrics
            .contains(r#"http_requests_total{method="GET",route="/health/live",status="200"} 1"#),
        "GET /metrics does not count the live request:\n{metrics}"
    );

    let stopped = app.stop().await;
    assert!(stopped.is_ok(), "stopping the app: {stopped:?}");
}

/// Asserts `GET /health/ready` reports exactly `checks` (`("mongodb", "down")`), with 200 and `"ok"`
/// when all are up, 503 and `"unavailable"` otherwise.
///
/// # Panics
///
/// When the status or the body differs.
pub async fn assert_readiness(app: &TestApp, checks: &[(&str, &str)]) {
    let all_up = checks.iter().all(|(_, status)| *status == "up");
    let (status, word) = if all_up {
        (200, "ok")
    } else {
        (503, "unavailable")
    };

    let response = app.get("/health/ready").await;

    assert_eq!(response.status(), status, "GET /health/ready");
    let body: Value = response.json().await.unwrap_or_default();
    let checks: serde_json::Map<_, _> = checks
        .iter()
        .map(|(name, status)| ((*name).to_owned(), json!(status)))
        .collect();
    assert_eq!(
        body,
        json!({ "status": word, "checks": checks }),
        "GET /health/ready"
    );
}
