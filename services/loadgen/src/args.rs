//! The command line (`clap`), turned into a [`Config`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use reqwest::Url;

use crate::config::{Config, Load, OverheadConfig, parse_duration};
use crate::mix::Mix;

/// In-flight cap of an open-loop run when `--concurrency` is not given.
const DEFAULT_MAX_IN_FLIGHT: usize = 256;
const DEFAULT_CONCURRENCY: usize = 32;

/// Drives browse, search and order traffic through the shop's gateway and reports throughput,
/// errors and latency percentiles per endpoint, the order→paid latency and the gateway's overhead.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
pub struct Args {
    /// The gateway's base URL.
    #[arg(
        long,
        env = "LOAD_GATEWAY_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub gateway: Url,

    /// The recorded window: 60, 60s, 2m, 1m30s, 500ms.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Traffic before recording starts (not reported).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Closed loop: this many workers, each issuing its next operation when the last one answered
    /// (default 32). With --rate: the most operations in flight at once (default 256).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: Option<u32>,

    /// Open loop: this many operations per second on a fixed schedule, latency counted from each
    /// operation's scheduled start (no coordinated omission).
    #[arg(long)]
    pub rate: Option<f64>,

    /// Users registered (or logged in again) for the run; orders are spread over them.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub users: u32,

    /// Relative weights of the operations.
    #[arg(long, default_value = "browse=60,search=25,order=15")]
    pub mix: Mix,

    /// products' own URL: enables the gateway-overhead measurement (the same cached product read,
    /// direct and through the gateway, in alternating windows).
    #[arg(long)]
    pub direct_products: Option<Url>,

    /// Length of the overhead measurement (half throughput, half latency at concurrency 1).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub overhead_duration: Duration,

    /// Concurrency of the overhead throughput measurement.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub overhead_concurrency: u32,

    /// One window of the overhead measurement (the sides alternate every window).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub overhead_window: Duration,

    /// How long to wait, after the load, for the recorded orders to be paid or declined.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub settle_timeout: Duration,

    /// Bound on every request.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Also write the whole report as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Seed of the random draws (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Names the users (load-<run-id>-<i>@example.com); reuse one to log the same users in again.
    #[arg(long)]
    pub run_id: Option<String>,

    /// Exit with status 3 when the error rate (in percent) is above this: a CI smoke.
    #[arg(long)]
    pub max_error_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgsError {
    #[error("--rate must be a positive number of operations per second, got {0}")]
    Rate(f64),
    #[error("--duration must be longer than zero")]
    NoDuration,
    #[error("--overhead-window must be longer than zero and at most half of --overhead-duration")]
    OverheadWindow,
    #[error("--run-id must be 1 to 32 characters of [A-Za-z0-9_-], got {0:?}")]
    RunId(String),
    #[error("--max-error-rate must be a percentage between 0 and 100, got {0}")]
    MaxErrorRate(f64),
}

impl Args {
    pub fn to_config(&self) -> Result<Config, ArgsError> {
        let concurrency = self.concurrency.map(|c| c as usize);
        let load = match self.rate {
            None => Load::Closed {
                concurrency: concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            },
            Some(rate) if rate.is_finite() && rate > 0.0 => Load::Open {
                rate,
                max_in_flight: concurrency.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            },
            Some(rate) => return Err(ArgsError::Rate(rate)),
        };
        if self.duration.is_zero() {
            return Err(ArgsError::NoDuration);
        }
        if let Some(rate) = self.max_error_rate
            && !(0.0..=100.0).contains(&rate)
        {
            return Err(ArgsError::MaxErrorRate(rate));
        }
        let overhead = match &self.direct_products {
            None => None,
            Some(url) => {
                if self.overhead_window.is_zero()
                    || self.overhead_window * 2 > self.overhead_duration
                {
                    return Err(ArgsError::OverheadWindow);
                }
                Some(OverheadConfig {
                    direct_products: url.clone(),
                    duration: self.overhead_duration,
                    concurrency: self.overhead_concurrency as usize,
                    window: self.overhead_window,
                })
            }
        };
        let seed = self.seed.unwrap_or_else(clock_seed);
        let run_id = match &self.run_id {
            Some(id) if is_valid_run_id(id) => id.clone(),
            Some(id) => return Err(ArgsError::RunId(id.clone())),
            None => format!("{seed:x}"),
        };
        Ok(Config {
            gateway: self.gateway.clone(),
            load,
            warmup: self.warmup,
            duration: self.duration,
            users: self.users as usize,
            mix: self.mix,
            settle_timeout: self.settle_timeout,
            overhead,
            request_timeout: self.request_timeout,
            seed,
            run_id,
        })
    }
}

fn clock_seed() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    // Microseconds: distinct for runs started in the same second.
    u64::try_from(now.as_micros()).unwrap_or(u64::MAX)
}

fn is_valid_run_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let args = Args::try_parse_from(std::iter::once("loadgen").chain(args.iter().copied()))
            .map_err(|error| error.to_string())?;
        args.to_config().map_err(|error| error.to_string())
    }

    #[test]
    fn defaults_are_a_minute_of_closed_loop_traffic_at_32() {
        let config = parse(&["--seed", "7"]).unwrap_or_else(|error| panic!("{error}"));

        assert_eq!(config.load, Load::Closed { concurrency: 32 });
        assert_eq!(config.duration, Duration::from_secs(60));
        assert_eq!(config.warmup, Duration::from_secs(5));
        assert_eq!(config.users, 50);
        assert_eq!(config.mix, Mix::default());
        assert_eq!(config.gateway.as_str(), "http://127.0.0.1:8080/");
        assert!(config.overhead.is_none());
        assert_eq!(config.run_id, "7");
    }

    #[test]
    fn a_rate_makes_an_open_loop_capped_by_the_concurrency() {
        let config = parse(&["--rate", "200", "--concurrency", "64", "--duration", "2m"])
            .unwrap_or_else(|error| panic!("{error}"));

        assert_eq!(
            config.load,
            Load::Open {
                rate: 200.0,
                max_in_flight: 64
            }
        );
        assert_eq!(config.duration, Duration::from_secs(120));
    }

    #[test]
    fn direct_products_enables_the_overhead_measurement() {
        let config = parse(&[
            "--direct-products",
            "http://127.0.0.1:8081",
            "--overhead-duration",
            "10s",
            "--overhead-concurrency",
            "4",
        ])
        .unwrap_or_else(|error| panic!("{error}"));

        let overhead = config.overhead.unwrap_or_else(|| panic!("enabled"));
        assert_eq!(overhead.duration, Duration::from_secs(10));
        assert_eq!(overhead.concurrency, 4);
        assert_eq!(overhead.window, Duration::from_secs(1));
    }

    #[test]
    fn nonsense_is_refused() {
        for args in [
            &["--rate", "0"][..],
            &["--rate", "-3"],
            &["--duration", "0s"],
            &["--duration", "soon"],
            &["--concurrency", "0"],
            &["--mix", "order=0"],
            &["--run-id", "has space"],
            &["--max-error-rate", "150"],
            &["--direct-products", "http://x", "--overhead-window", "15s"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
