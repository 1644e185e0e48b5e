//! Stand-ins for the services: real HTTP servers on port 0 inside the test, answering what a test
//! needs (echoing what they received, sleeping, failing), and counting the requests they got.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use reqwest::Url;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::parse_url;

/// A running stand-in. Dropping it stops it.
#[derive(Debug)]
pub struct StandIn {
    pub url: Url,
    /// Requests received, `/health/ready` probes excluded.
    calls: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What the echo stand-in received, as it answers it.
#[derive(Debug, Clone)]
pub struct Seen(pub Value);

impl Seen {
    /// Every value of header `name` the service received.
    pub fn header(&self, name: &str) -> Vec<String> {
        self.0["headers"][name]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl StandIn {
    /// Serves `router` as it is.
    pub async fn spawn(router: Router) -> Self {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let router = router.layer(axum::middleware::from_fn(
            move |request: Request, next: axum::middleware::Next| {
                if request.uri().path() != "/health/ready" {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request)
            },
        ));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| panic!("binding a stand-in: {error}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("{error}"))
            .port();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                panic!("a stand-in failed: {error}");
            }
        });
        Self {
            url: parse_url(&format!("http://127.0.0.1:{port}")),
            calls,
            server,
        }
    }

    /// Answers every request with what it received: `{method, path, query, headers, body}`, the
    /// status in `x-echo-status` (default 200), and `X-Cache: HIT`.
    pub async fn echo() -> Self {
        Self::spawn(ready(Router::new().fallback(echo))).await
    }

    /// Answers every request with 200 after `delay`.
    pub async fn slow(delay: Duration) -> Self {
        Self::spawn(ready(Router::new().fallback(move || async move {
            tokio::time::sleep(delay).await;
            "finally"
        })))
        .await
    }

    /// A service that runs but is not ready: `GET /health/ready` is 503.
    pub async fn not_ready() -> Self {
        Self::spawn(Router::new().route(
            "/health/ready",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "mongodb down") }),
        ))
        .await
    }

    /// Requests received so far, readiness probes excluded.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// `router` plus `GET /health/ready` answering 200, as a ready service does.
pub fn ready(router: Router) -> Router {
    router.route("/health/ready", get(|| async { "ready" }))
}

async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_else(|_| Bytes::new());
    let status = parts
        .headers
        .get("x-echo-status")
        .and_then(|v| v.to_str().ok()?.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::OK);
    let seen = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers(&parts.headers),
        "body": String::from_utf8_lossy(&body),
    });
    (status, [("x-cache", "HIT")], axum::Json(seen)).into_response()
}

fn headers(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        all.entry(name.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    all
}
