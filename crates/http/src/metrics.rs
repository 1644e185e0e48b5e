//! Prometheus metrics of one application: its registry, the HTTP request metrics and `GET /metrics`.
//!
//! The registry belongs to the application, not the process, because tests run several applications in
//! one process and each must expose only its own numbers. It sits behind a mutex so that components
//! built after the router (stream runners, outbox relays) can still register: registration and scrapes
//! are rare and short, and no lock is held across an `.await`.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::error::error_response;

/// The OpenMetrics text format, which is what `prometheus_client` encodes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `route` label of requests that matched no route: raw paths would let any client create
/// unbounded label values.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets in seconds, from a cache hit to a request that is about to time out.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// An application's metrics. Cheap to clone; clones share the registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    http: HttpMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry holding the HTTP request metrics.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http = HttpMetrics::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            http.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to produce the response head, by method and route template",
            Unit::Seconds,
            http.duration.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            http,
        }
    }

    /// The registry, to register more metrics (`registry().register(..)`, or a
    /// `sub_registry_with_prefix("streams")`). Metric handles are shared, so register and keep a clone.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic elsewhere while registering leaves the registry usable: keep serving metrics.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The text exposition of everything registered.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut body = String::new();
        encode(&mut body, &self.registry())?;
        Ok(body)
    }

    /// `GET /metrics`.
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route("/metrics", get(serve_metrics))
            .with_state(self.clone())
    }

    /// The middleware state recording request metrics; see [`crate::layers::with_common_layers`].
    pub(crate) fn http(&self) -> HttpMetrics {
        self.http.clone()
    }
}

async fn serve_metrics(State(metrics): State<Metrics>) -> Response {
    match metrics.encode() {
        Ok(body) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "encoding metrics");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "could not encode metrics",
            )
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DurationLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone)]
pub(crate) struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<DurationLabels, Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
        }
    }
}

/// Records one request. It must run inside the router (as a `Router::layer`), where `MatchedPath` is
/// known: the route template (`/products/{id}`) keeps label cardinality bounded.
pub(crate) async fn record_request(
    State(metrics): State<HttpMetrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();

    let response = next.run(request).await;

    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    metrics
        .duration
        .get_or_create(&DurationLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(elapsed);
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .inc();
    response
}
