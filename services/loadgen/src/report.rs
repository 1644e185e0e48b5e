//! The whole result of a run as data (serialised as is for `--json`); `render.rs` prints it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{Config, Load};
use crate::driver::Recorded;
use crate::machine::Machine;
use crate::overhead::Overhead;
use crate::settle::Settlement;
use crate::stats::{Endpoint, Percentiles};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub run: RunInfo,
    pub setup: SetupInfo,
    pub load: LoadSummary,
    pub orders: OrdersSummary,
    pub overhead: Option<Overhead>,
    /// Failed requests plus unsettled orders, over all requests of the recorded window (percent).
    pub error_rate_pct: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub gateway: String,
    pub load: Load,
    pub warmup_s: f64,
    pub duration_s: f64,
    pub users: usize,
    pub mix: String,
    pub seed: u64,
    pub run_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetupInfo {
    pub catalog_products: usize,
    pub orderable_products: usize,
    pub search_terms: usize,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadSummary {
    pub window_s: f64,
    pub requests: u64,
    pub requests_per_s: f64,
    pub errors: u64,
    pub endpoints: Vec<EndpointReport>,
    /// Open loop only: recorded operations that started over 1 ms behind schedule.
    pub late_starts: u64,
    /// Orders not sent because every product's stock budget was spent (a browse instead).
    pub orders_skipped: u64,
    /// CPU seconds the load generator used during the warm-up and the window.
    pub generator_cpu_s: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    pub endpoint: &'static str,
    pub requests: u64,
    pub per_s: f64,
    pub errors: u64,
    pub error_rate_pct: f64,
    /// Status code (or `timeout`, `transport`, `bad_body`) → count.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Of the successful requests.
    pub latency: Option<Percentiles>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrdersSummary {
    /// Orders accepted (201) per second of the recorded window.
    pub placed_per_s: f64,
    #[serde(flatten)]
    pub settlement: Settlement,
}

/// The parts measured separately, put together.
#[derive(Debug)]
pub struct Parts {
    pub machine: Machine,
    pub setup: SetupInfo,
    pub recorded: Recorded,
    pub settlement: Settlement,
    pub overhead: Option<Overhead>,
}

impl Report {
    pub fn new(config: &Config, parts: Parts) -> Self {
        let Parts {
            machine,
            setup,
            recorded,
            settlement,
            overhead,
        } = parts;
        let window = config.duration.as_secs_f64();
        let per_s = |count: u64| count as f64 / window;
        let endpoints: Vec<EndpointReport> = Endpoint::ALL
            .iter()
            .map(|endpoint| {
                let stats = recorded.recorder.endpoint(*endpoint);
                EndpointReport {
                    endpoint: endpoint.label(),
                    requests: stats.requests(),
                    per_s: per_s(stats.requests()),
                    errors: stats.errors(),
                    error_rate_pct: percent(stats.errors(), stats.requests()),
                    errors_by_kind: stats
                        .failures
                        .iter()
                        .map(|(failure, count)| (failure.label(), *count))
                        .collect(),
                    latency: stats.latencies.summary(),
                }
            })
            .collect();
        let requests = recorded.recorder.requests();
        let errors = recorded.recorder.errors();
        Self {
            machine,
            run: RunInfo {
                gateway: config.gateway.to_string(),
                load: config.load,
                warmup_s: config.warmup.as_secs_f64(),
                duration_s: window,
                users: config.users,
                mix: config.mix.to_string(),
                seed: config.seed,
                run_id: config.run_id.clone(),
            },
            setup,
            error_rate_pct: percent(errors + settlement.unsettled, requests),
            orders: OrdersSummary {
                placed_per_s: per_s(settlement.placed),
                settlement,
            },
            load: LoadSummary {
                window_s: window,
                requests,
                requests_per_s: per_s(requests),
                errors,
                endpoints,
                late_starts: recorded.late_starts,
                orders_skipped: recorded.orders_skipped,
                generator_cpu_s: recorded.generator_cpu_s,
            },
            overhead,
        }
    }
}

/// `part` of `whole` in percent; 0 of nothing is 0%.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::mix::Mix;
    use crate::stats::Failure;
    use crate::workload::PlacedOrder;

    fn config() -> Config {
        Config {
            gateway: "http://127.0.0.1:8080"
                .parse()
                .unwrap_or_else(|error| panic!("{error}")),
            load: Load::Closed { concurrency: 2 },
            warmup: Duration::ZERO,
            duration: Duration::from_secs(2),
            users: 1,
            mix: Mix::default(),
            settle_timeout: Duration::from_secs(1),
            overhead: None,
            request_timeout: Duration::from_secs(1),
            seed: 1,
            run_id: "t".into(),
        }
    }

    fn settlement(placed: u64, paid: u64, unsettled: u64) -> Settlement {
        Settlement {
            placed,
            paid,
            payment_failed: 0,
            unsettled,
            order_to_paid: None,
            waited_s: 0.0,
            read_errors: 0,
        }
    }

    #[test]
    fn throughput_and_error_rates_are_per_endpoint_over_the_window() {
        let mut recorded = Recorded::default();
        let ms = Duration::from_millis;
        for _ in 0..6 {
            recorded.recorder.record(Endpoint::Product, ms(1), Ok(()));
        }
        recorded.recorder.record(Endpoint::Order, ms(9), Ok(()));
        recorded
            .recorder
            .record(Endpoint::Order, ms(9), Err(Failure::Status(503)));
        recorded.orders.push(PlacedOrder {
            user: 0,
            order_id: "o-1".into(),
        });

        let report = Report::new(
            &config(),
            Parts {
                machine: Machine::describe(),
                setup: SetupInfo {
                    catalog_products: 1,
                    orderable_products: 1,
                    search_terms: 1,
                    seconds: 0.0,
                },
                recorded,
                settlement: settlement(1, 0, 1),
                overhead: None,
            },
        );

        assert_eq!(report.load.requests, 8);
        assert!((report.load.requests_per_s - 4.0).abs() < 1e-9);
        let product = &report.load.endpoints[0];
        assert_eq!((product.requests, product.errors), (6, 0));
        assert!((product.per_s - 3.0).abs() < 1e-9);
        let order = &report.load.endpoints[3];
        assert_eq!(order.endpoint, "POST /api/orders");
        assert!((order.error_rate_pct - 50.0).abs() < 1e-9);
        assert_eq!(order.errors_by_kind, BTreeMap::from([("503".into(), 1)]));
        assert!(order.latency.is_some(), "the success is timed");
        assert!(report.load.endpoints[2].latency.is_none(), "no searches");
        // One failed request and one unsettled order, of 8 requests.
        assert!((report.error_rate_pct - 25.0).abs() < 1e-9);
        assert!((report.orders.placed_per_s - 0.5).abs() < 1e-9);
    }

    #[test]
    fn nothing_is_zero_percent() {
        assert_eq!(percent(0, 0), 0.0);
        assert!((percent(1, 3) - 33.333).abs() < 0.001);
    }
}
