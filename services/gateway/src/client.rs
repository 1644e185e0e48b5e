//! Who the client is (its IP address) and whether it may make a request now: a token bucket per
//! client address, kept in this replica's memory.
//!
//! The limit is per gateway replica: with N replicas behind a balancer a client gets up to N times
//! the configured rate. That is the usual trade for a limiter that costs no network round trip on
//! every request; a global limit would need a shared counter (Redis) on the hot path.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::config::RateLimit;
use crate::error::ApiError;

/// How often buckets of clients that have been quiet long enough to be full again are dropped,
/// bounding the limiter's memory by the clients of the last few minutes.
const FORGET_IDLE_CLIENTS_EVERY: Duration = Duration::from_secs(60);

/// The client's address, as [`identify_and_limit`] decided it; read by the proxy for
/// `x-forwarded-for`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// One token bucket per client address.
#[derive(Debug, Clone)]
pub struct ClientLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl ClientLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
        Self {
            limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)),
        }
    }

    /// `Ok` if `client` has a token left (and takes it), else how long until it has one.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Drops the buckets of idle clients every minute until `shutdown`.
    pub async fn forget_idle_clients(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(FORGET_IDLE_CLIENTS_EVERY) => {}
            }
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
    }
}

/// Middleware around every route: records the client's address in the request, then spends one of
/// its tokens, answering 429 `rate_limited` with `Retry-After` when there is none. Probes and
/// scrapes (`/health*`, `/metrics`) are never limited: an orchestrator must always get through.
pub async fn identify_and_limit(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = client_ip(&request, state.trust_forwarded_for);
    if let Some(client) = client {
        request.extensions_mut().insert(ClientIp(client));
    }
    if let (Some(limiter), Some(client)) = (&state.limiter, client)
        && !is_exempt(request.uri().path())
        && let Err(wait) = limiter.check(client)
    {
        return ApiError::RateLimited {
            retry_after_secs: retry_after_secs(wait),
        }
        .into_response();
    }
    next.run(request).await
}

fn is_exempt(path: &str) -> bool {
    path == "/health" || path.starts_with("/health/") || path == "/metrics"
}

/// The first `x-forwarded-for` entry when trusted (the balancer in front sets it), else the peer.
fn client_ip(request: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    let forwarded = trust_forwarded_for
        .then(|| request.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .and_then(|first| first.trim().parse().ok());
    forwarded.or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
    })
}

/// Whole seconds, rounded up and at least 1: `Retry-After: 0` would invite an immediate retry that
/// is refused again.
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn limit(per_second: u32, burst: u32) -> RateLimit {
        let non_zero = |n| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        RateLimit {
            per_second: non_zero(per_second),
            burst: non_zero(burst),
        }
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_while_others_are_unaffected() {
        let limiter = ClientLimiter::new(limit(1, 3));
        let a = IpAddr::from([10, 0, 0, 1]);
        let b = IpAddr::from([10, 0, 0, 2]);

        let first: Vec<bool> = (0..4).map(|_| limiter.check(a).is_ok()).collect();

        assert_eq!(first, [true, true, true, false]);
        assert!(
            limiter.check(b).is_ok(),
            "another client has its own bucket"
        );
        let wait = limiter.check(a).err().unwrap_or_default();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(20)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    }

    #[test]
    fn probes_and_scrapes_are_exempt_but_the_api_is_not() {
        for path in ["/health", "/health/ready", "/health/live", "/metrics"] {
            assert!(is_exempt(path), "{path}");
        }
        for path in ["/api/products", "/healthz", "/metrics2", "/api/ops/streams"] {
            assert!(!is_exempt(path), "{path}");
        }
    }
}
