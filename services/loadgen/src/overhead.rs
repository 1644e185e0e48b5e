//! The gateway's overhead: the same request, `GET /api/products/{id}` of one product already in
//! products' cache, sent straight to `products` and through the gateway. The two sides alternate in
//! short windows (direct, gateway, direct, …) so that whatever drifts during the measurement (other
//! processes, caches, CPU frequency) hits both alike. Half the time measures throughput at a fixed
//! concurrency, half the latency of one request at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Client, Url};
use serde::Serialize;
use tokio::time::Instant;

use crate::client;
use crate::config::OverheadConfig;
use crate::stats::{Latencies, Percentiles};

/// The targets: the gateway hop may cost at most 30% of the throughput...
pub const MAX_THROUGHPUT_COST: f64 = 0.30;
/// ...and add at most 0.3 ms to the median of a cached product read.
pub const MAX_ADDED_P50_MS: f64 = 0.3;

/// Both sides of one measurement.
#[derive(Debug, Clone, Serialize)]
pub struct Overhead {
    pub product_id: String,
    pub window_ms: u128,
    pub throughput: ThroughputComparison,
    pub latency: LatencyComparison,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThroughputComparison {
    pub concurrency: usize,
    /// Successful requests on each side.
    pub direct_requests: u64,
    pub gateway_requests: u64,
    pub direct_rps: f64,
    pub gateway_rps: f64,
    /// `gateway_rps / direct_rps`.
    pub ratio: f64,
    /// `1 − ratio`: the share of throughput the hop costs.
    pub cost: f64,
    pub max_cost: f64,
    pub pass: bool,
    pub direct_errors: u64,
    pub gateway_errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencyComparison {
    /// Successful requests on each side.
    pub direct_requests: u64,
    pub gateway_requests: u64,
    /// At concurrency 1.
    pub direct: Option<Percentiles>,
    pub gateway: Option<Percentiles>,
    pub added_p50_ms: f64,
    pub max_added_p50_ms: f64,
    pub pass: bool,
    pub direct_errors: u64,
    pub gateway_errors: u64,
}

/// The product's URL on each side.
#[derive(Debug, Clone)]
pub struct Targets {
    pub product_id: String,
    direct: Arc<str>,
    gateway: Arc<str>,
}

impl Targets {
    pub fn new(gateway: &Url, direct_products: &Url, product_id: &str) -> Self {
        let url = |base: &Url| -> Arc<str> {
            let base = base.as_str().trim_end_matches('/');
            format!("{base}/api/products/{product_id}").into()
        };
        Self {
            product_id: product_id.to_owned(),
            direct: url(direct_products),
            gateway: url(gateway),
        }
    }

    /// Reads the product on both sides until it is served from the cache; an error names the side
    /// that does not answer 200.
    pub async fn warm_up(&self, http: &Client) -> Result<(), String> {
        for (side, url) in [("direct", &self.direct), ("gateway", &self.gateway)] {
            for _ in 0..2 {
                client::get(http, url)
                    .await
                    .map_err(|failure| format!("{side} GET {url}: {}", failure.label()))?;
            }
        }
        Ok(())
    }
}

/// Runs the measurement for `config.duration`.
pub async fn measure(http: &Client, targets: &Targets, config: &OverheadConfig) -> Overhead {
    let windows = windows_per_part(config.duration, config.window);
    if let Err(error) = targets.warm_up(http).await {
        tracing::warn!(%error, "re-reading the overhead product");
    }

    let mut served = [(0u64, 0u64, Duration::ZERO); 2];
    for window in 0..windows {
        let side = window % 2;
        let url = [&targets.direct, &targets.gateway][side];
        let (ok, errors, elapsed) =
            throughput_window(http, url, config.concurrency, config.window).await;
        served[side].0 += ok;
        served[side].1 += errors;
        served[side].2 += elapsed;
    }
    let rps = |(ok, _, elapsed): (u64, u64, Duration)| ok as f64 / elapsed.as_secs_f64().max(1e-9);
    let (direct_rps, gateway_rps) = (rps(served[0]), rps(served[1]));
    let ratio = if direct_rps > 0.0 {
        gateway_rps / direct_rps
    } else {
        0.0
    };

    let mut latencies = [Latencies::default(), Latencies::default()];
    let mut latency_errors = [0u64; 2];
    for window in 0..windows {
        let side = window % 2;
        let url = [&targets.direct, &targets.gateway][side];
        latency_errors[side] +=
            latency_window(http, url, config.window, &mut latencies[side]).await;
    }
    let [direct_requests, gateway_requests] = [&latencies[0], &latencies[1]].map(Latencies::count);
    let [direct, gateway] = latencies.map(|l| l.summary());
    let added_p50_ms = match (direct, gateway) {
        (Some(d), Some(g)) => g.p50_ms - d.p50_ms,
        _ => f64::NAN,
    };

    Overhead {
        product_id: targets.product_id.clone(),
        window_ms: config.window.as_millis(),
        throughput: ThroughputComparison {
            concurrency: config.concurrency,
            direct_requests: served[0].0,
            gateway_requests: served[1].0,
            direct_rps,
            gateway_rps,
            ratio,
            cost: 1.0 - ratio,
            max_cost: MAX_THROUGHPUT_COST,
            pass: 1.0 - ratio <= MAX_THROUGHPUT_COST,
            direct_errors: served[0].1,
            gateway_errors: served[1].1,
        },
        latency: LatencyComparison {
            direct_requests,
            gateway_requests,
            direct,
            gateway,
            added_p50_ms,
            max_added_p50_ms: MAX_ADDED_P50_MS,
            pass: added_p50_ms <= MAX_ADDED_P50_MS,
            direct_errors: latency_errors[0],
            gateway_errors: latency_errors[1],
        },
    }
}

/// Windows per half of the measurement: an even number (both sides equally often), at least two.
pub fn windows_per_part(duration: Duration, window: Duration) -> usize {
    let fit = (duration.as_secs_f64() / 2.0 / window.as_secs_f64().max(1e-9)) as usize;
    (fit - fit % 2).max(2)
}

/// `concurrency` request loops on `url` for `window`: successes, failures, and the time until the
/// last one answered.
async fn throughput_window(
    http: &Client,
    url: &Arc<str>,
    concurrency: usize,
    window: Duration,
) -> (u64, u64, Duration) {
    let start = Instant::now();
    let end = start + window;
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let loops: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, url) = (http.clone(), Arc::clone(url));
            let (ok, failed) = (Arc::clone(&ok), Arc::clone(&failed));
            tokio::spawn(async move {
                while Instant::now() < end {
                    let counter = match client::get(&http, &url).await {
                        Ok(()) => &ok,
                        Err(_) => &failed,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for request_loop in loops {
        if let Err(error) = request_loop.await {
            tracing::error!(%error, "an overhead request loop failed");
        }
    }
    (
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        start.elapsed(),
    )
}

/// One request at a time on `url` for `window`, each timed; returns the failures.
async fn latency_window(
    http: &Client,
    url: &str,
    window: Duration,
    latencies: &mut Latencies,
) -> u64 {
    let end = Instant::now() + window;
    let mut failed = 0;
    loop {
        let started = Instant::now();
        if started >= end {
            return failed;
        }
        match client::get(http, url).await {
            Ok(()) => latencies.record(started.elapsed()),
            Err(_) => failed += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_half_gets_an_even_number_of_windows() {
        let secs = Duration::from_secs;
        assert_eq!(windows_per_part(secs(20), secs(1)), 10);
        assert_eq!(windows_per_part(secs(22), secs(1)), 10);
        assert_eq!(windows_per_part(secs(2), secs(1)), 2);
        assert_eq!(
            windows_per_part(secs(1), secs(1)),
            2,
            "never fewer than one window a side"
        );
    }

    #[test]
    fn targets_are_the_same_path_on_both_sides() {
        let parse = |url: &str| Url::parse(url).unwrap_or_else(|error| panic!("{error}"));

        let targets = Targets::new(
            &parse("http://127.0.0.1:8080"),
            &parse("http://127.0.0.1:8081/"),
            "p-0001",
        );

        assert_eq!(
            &*targets.gateway,
            "http://127.0.0.1:8080/api/products/p-0001"
        );
        assert_eq!(
            &*targets.direct,
            "http://127.0.0.1:8081/api/products/p-0001"
        );
    }
}
