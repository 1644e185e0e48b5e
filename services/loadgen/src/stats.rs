//! What a run records: per endpoint, a latency histogram of the successful requests (microsecond
//! resolution) and the errors counted by kind. Each worker owns a [`Recorder`]; they are merged once
//! at the end, so recording never contends on a lock.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies up to this are recorded exactly (3 significant digits); longer ones saturate here.
const MAX_LATENCY_MICROS: u64 = 120_000_000;

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        // Constant, valid bounds (1 ≤ low, high ≥ 2 × low, 3 significant digits): cannot fail.
        let histogram = Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)
            .expect("constant histogram bounds are valid");
        Self(histogram)
    }
}

impl Latencies {
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.record_micros(micros);
    }

    pub fn record_micros(&mut self, micros: u64) {
        // Below 1 µs is the histogram's floor, above its ceiling saturates: both are recorded.
        self.0.saturating_record(micros.max(1));
    }

    pub fn merge(&mut self, other: &Self) {
        // Same bounds on both sides, so adding never fails; a failure would only lose samples.
        if let Err(error) = self.0.add(&other.0) {
            tracing::warn!(%error, "merging latency histograms");
        }
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The summary, or `None` when nothing was recorded.
    pub fn summary(&self) -> Option<Percentiles> {
        if self.0.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(Percentiles {
            p50_ms: ms(self.0.value_at_quantile(0.50)),
            p90_ms: ms(self.0.value_at_quantile(0.90)),
            p99_ms: ms(self.0.value_at_quantile(0.99)),
            max_ms: ms(self.0.max()),
            mean_ms: self.0.mean() / 1000.0,
        })
    }
}

/// Latency percentiles in milliseconds (microsecond resolution).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// The endpoints a run drives, each reported on its own line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /api/products/{id}` (browse).
    Product,
    /// `GET /api/products?page=k` (browse).
    ProductPage,
    /// `GET /api/products?search=term`.
    Search,
    /// `POST /api/orders`.
    Order,
}

impl Endpoint {
    pub const ALL: [Self; 4] = [Self::Product, Self::ProductPage, Self::Search, Self::Order];

    pub fn label(self) -> &'static str {
        match self {
            Self::Product => "GET /api/products/{id}",
            Self::ProductPage => "GET /api/products?page=",
            Self::Search => "GET /api/products?search=",
            Self::Order => "POST /api/orders",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Product => 0,
            Self::ProductPage => 1,
            Self::Search => 2,
            Self::Order => 3,
        }
    }
}

/// Why a request failed: a non-2xx status, or no answer at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    Status(u16),
    Timeout,
    /// Could not connect, or the exchange broke.
    Transport,
    /// A 2xx whose body was not what the API promises.
    BadBody,
}

impl Failure {
    pub fn from_reqwest(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Timeout
        } else if let Some(status) = error.status() {
            Self::Status(status.as_u16())
        } else if error.is_decode() {
            Self::BadBody
        } else {
            Self::Transport
        }
    }

    pub fn label(self) -> String {
        match self {
            Self::Status(code) => code.to_string(),
            Self::Timeout => "timeout".to_owned(),
            Self::Transport => "transport".to_owned(),
            Self::BadBody => "bad_body".to_owned(),
        }
    }
}

/// One endpoint's successes (with their latencies) and failures.
#[derive(Debug, Clone, Default)]
pub struct EndpointStats {
    pub latencies: Latencies,
    pub failures: BTreeMap<Failure, u64>,
}

impl EndpointStats {
    pub fn errors(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Successes and failures.
    pub fn requests(&self) -> u64 {
        self.latencies.count() + self.errors()
    }

    fn merge(&mut self, other: &Self) {
        self.latencies.merge(&other.latencies);
        for (failure, count) in &other.failures {
            *self.failures.entry(*failure).or_default() += count;
        }
    }
}

/// Every endpoint's stats, as one worker (or, merged, the whole run) saw them.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    endpoints: [EndpointStats; 4],
}

impl Recorder {
    /// Successful requests are timed; failed ones are counted by kind, their latency left out so a
    /// burst of fast refusals cannot flatter the percentiles (the error rate reports them).
    pub fn record(&mut self, endpoint: Endpoint, latency: Duration, outcome: Result<(), Failure>) {
        let stats = &mut self.endpoints[endpoint.index()];
        match outcome {
            Ok(()) => stats.latencies.record(latency),
            Err(failure) => *stats.failures.entry(failure).or_default() += 1,
        }
    }

    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.endpoints.iter_mut().zip(&other.endpoints) {
            mine.merge(theirs);
        }
    }

    pub fn endpoint(&self, endpoint: Endpoint) -> &EndpointStats {
        &self.endpoints[endpoint.index()]
    }

    pub fn requests(&self) -> u64 {
        self.endpoints.iter().map(EndpointStats::requests).sum()
    }

    pub fn errors(&self) -> u64 {
        self.endpoints.iter().map(EndpointStats::errors).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_of_one_to_a_hundred_milliseconds_are_those_values() {
        let mut latencies = Latencies::default();
        for n in 1..=100 {
            latencies.record(ms(n));
        }

        let summary = latencies.summary().unwrap_or_else(|| panic!("recorded"));

        // Three significant digits: within 0.1% of the exact value.
        let close = |got: f64, want: f64| (got - want).abs() <= want * 0.001;
        assert!(close(summary.p50_ms, 50.0), "{summary:?}");
        assert!(close(summary.p90_ms, 90.0), "{summary:?}");
        assert!(close(summary.p99_ms, 99.0), "{summary:?}");
        assert!(close(summary.max_ms, 100.0), "{summary:?}");
        assert!(close(summary.mean_ms, 50.5), "{summary:?}");
    }

    #[test]
    fn microseconds_are_kept() {
        let mut latencies = Latencies::default();
        latencies.record(Duration::from_micros(250));

        let summary = latencies.summary().unwrap_or_else(|| panic!("recorded"));

        assert!((summary.p50_ms - 0.25).abs() < 0.001, "{summary:?}");
    }

    #[test]
    fn nothing_recorded_has_no_summary() {
        assert_eq!(Latencies::default().summary(), None);
    }

    #[test]
    fn merged_recorders_add_up_successes_and_failures_per_endpoint() {
        let mut a = Recorder::default();
        a.record(Endpoint::Product, ms(1), Ok(()));
        a.record(Endpoint::Order, ms(10), Err(Failure::Status(409)));
        let mut b = Recorder::default();
        b.record(Endpoint::Product, ms(3), Ok(()));
        b.record(Endpoint::Order, ms(10), Err(Failure::Status(409)));
        b.record(Endpoint::Order, ms(10), Err(Failure::Timeout));
        b.record(Endpoint::Order, ms(20), Ok(()));

        a.merge(&b);

        assert_eq!(a.endpoint(Endpoint::Product).requests(), 2);
        assert_eq!(a.endpoint(Endpoint::Product).errors(), 0);
        let orders = a.endpoint(Endpoint::Order);
        assert_eq!(orders.requests(), 4);
        assert_eq!(orders.latencies.count(), 1, "failures are not timed");
        assert_eq!(
            orders.failures.iter().collect::<Vec<_>>(),
            [(&Failure::Status(409), &2), (&Failure::Timeout, &1)]
        );
        assert_eq!(a.requests(), 6);
        assert_eq!(a.errors(), 3);
        assert_eq!(a.endpoint(Endpoint::Search).requests(), 0);
    }

    #[test]
    fn saturated_latencies_are_still_counted() {
        let mut latencies = Latencies::default();
        latencies.record(Duration::from_secs(3600));
        latencies.record(Duration::ZERO);

        assert_eq!(latencies.count(), 2);
    }
}
