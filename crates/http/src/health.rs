//! Liveness and readiness endpoints. Live says the process answers; ready says its dependencies do,
//! so an orchestrator routes traffic only to instances that can serve it.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How long one check may take before it counts as down. Below the usual 3-5 s probe timeout of an
/// orchestrator, so a hung dependency yields a 503 rather than a probe timeout.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The probe itself: `Ok` when the dependency answers, `Err(reason)` otherwise. The reason is logged,
/// not returned to the caller. A boxed closure because checks come from different crates and are
/// stored side by side.
pub type CheckFn = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A named readiness check (`"redis"`, `"mongodb"`).
#[derive(Clone)]
pub struct ReadinessCheck {
    name: String,
    check: CheckFn,
}

impl fmt::Debug for ReadinessCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadinessCheck")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ReadinessCheck {
    pub fn new<F, Fut>(name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self {
            name: name.into(),
            check: Arc::new(move || check().boxed()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Up or down, as shown per check in the readiness body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Up,
    Down,
}

/// `"ok"` when every check is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadyStatus {
    Ok,
    Unavailable,
}

/// The body of `GET /health/ready`: `{"status":"ok","checks":{"mongodb":"up","redis":"up"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessReport {
    pub status: ReadyStatus,
    pub checks: BTreeMap<String, CheckStatus>,
}

/// The checks of one application and the timeout each runs under.
#[derive(Debug, Clone)]
pub struct Readiness {
    checks: Arc<[ReadinessCheck]>,
    timeout: Duration,
}

impl Readiness {
    pub fn new(checks: impl IntoIterator<Item = ReadinessCheck>) -> Self {
        Self {
            checks: checks.into_iter().collect(),
            timeout: DEFAULT_CHECK_TIMEOUT,
        }
    }

    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs every check concurrently: the slowest check, not the sum, bounds the probe.
    pub async fn run(&self) -> ReadinessReport {
        let results = join_all(self.checks.iter().map(|check| async move {
            let outcome = match tokio::time::timeout(self.timeout, (check.check)()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {:?}", self.timeout)),
            };
            let status = match outcome {
                Ok(()) => CheckStatus::Up,
                Err(reason) => {
                    tracing::warn!(check = %check.name, %reason, "readiness check failed");
                    CheckStatus::Down
                }
            };
            (check.name.clone(), status)
        }))
        .await;

        let checks: BTreeMap<_, _> = results.into_iter().collect();
        let status = if checks.values().all(|status| *status == CheckStatus::Up) {
            ReadyStatus::Ok
        } else {
            ReadyStatus::Unavailable
        };
        ReadinessReport { status, checks }
    }
}

/// `GET /health/live` and `GET /health/ready`, usable in any application's router.
pub fn router<S>(readiness: Readiness) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .with_state(readiness)
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(readiness): State<Readiness>) -> Response {
    let report = readiness.run().await;
    let status = match report.status {
        ReadyStatus::Ok => StatusCode::OK,
        ReadyStatus::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(report)).into_response()
}

/// `"redis"`: a `PING` through the shared pool.
#[cfg(feature = "redis")]
pub fn redis_check(redis: shop_streams::Redis) -> ReadinessCheck {
    ReadinessCheck::new("redis", move || {
        let redis = redis.clone();
        async move { redis.ping().await.map_err(|error| error.to_string()) }
    })
}
