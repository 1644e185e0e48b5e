//! What one run does, as plain values (the command line in `args.rs` produces it; tests build it
//! directly), and the duration syntax of the flags.

use std::time::Duration;

use reqwest::Url;
use serde::Serialize;

use crate::mix::Mix;

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The gateway's base URL: every operation goes through it.
    pub gateway: Url,
    pub load: Load,
    /// Traffic before recording starts (connections, caches and the services' pools warm up).
    pub warmup: Duration,
    /// The recorded window.
    pub duration: Duration,
    pub users: usize,
    pub mix: Mix,
    /// After the load, how long to wait for the recorded orders to settle.
    pub settle_timeout: Duration,
    /// The gateway-overhead measurement; `None` skips it.
    pub overhead: Option<OverheadConfig>,
    /// Bound on every request.
    pub request_timeout: Duration,
    /// Seeds every worker's random draws.
    pub seed: u64,
    /// Names this run's users (`load-<run_id>-<i>@example.com`) and idempotency keys.
    pub run_id: String,
}

/// How operations are issued.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Load {
    /// `concurrency` workers, each starting its next operation when the last one answered.
    Closed { concurrency: usize },
    /// `rate` operations per second on a fixed schedule, whatever the answers; at most
    /// `max_in_flight` at once. Latency counts from each operation's scheduled start.
    Open { rate: f64, max_in_flight: usize },
}

impl Load {
    /// How many workers issue operations.
    pub fn workers(&self) -> usize {
        match *self {
            Self::Closed { concurrency } => concurrency,
            Self::Open { max_in_flight, .. } => max_in_flight,
        }
    }
}

/// The same cached product read, straight to `products` and through the gateway, in alternating
/// windows.
#[derive(Debug, Clone)]
pub struct OverheadConfig {
    /// `products`' own base URL.
    pub direct_products: Url,
    /// Total time; half measures throughput at `concurrency`, half latency at concurrency 1.
    pub duration: Duration,
    pub concurrency: usize,
    /// Length of one window on one side.
    pub window: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a duration (use 60, 60s, 1.5s, 500ms, 2m, 1h or 1m30s)")]
pub struct DurationError(String);

/// Reads `60` (seconds), `60s`, `1.5s`, `500ms`, `2m`, `1h` and sums such as `1m30s`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError(text.to_owned());
    let text = text.trim();
    if text.is_empty() {
        return Err(error());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds_to_duration(seconds).ok_or_else(error);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(error)?;
        let unit_len = rest[number_len..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len() - number_len);
        let number: f64 = rest[..number_len].parse().map_err(|_| error())?;
        let seconds_per_unit = match &rest[number_len..number_len + unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(error()),
        };
        total += seconds_to_duration(number * seconds_per_unit).ok_or_else(error)?;
        rest = &rest[number_len + unit_len..];
    }
    Ok(total)
}

fn seconds_to_duration(seconds: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_accepted_form() {
        let cases = [
            ("60", 60_000),
            ("60s", 60_000),
            ("1.5s", 1_500),
            ("500ms", 500),
            ("2m", 120_000),
            ("1h", 3_600_000),
            ("1m30s", 90_000),
            (" 0 ", 0),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(millis)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn malformed_durations_are_refused() {
        for text in ["", "s", "10x", "-5", "-5s", "1.2.3s", "5 s", "m5", "ten"] {
            assert!(parse_duration(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn the_workers_are_the_concurrency_or_the_in_flight_cap() {
        assert_eq!(Load::Closed { concurrency: 32 }.workers(), 32);
        let open = Load::Open {
            rate: 100.0,
            max_in_flight: 256,
        };
        assert_eq!(open.workers(), 256);
    }
}
