//! After the traffic: bring back whatever is down (`dev.sh up --no-build` starts only what does
//! not run, Redis and the database included), then wait, in bounded polls, until the system has
//! settled (no order still `created`, every group read and acknowledged up to its stream's end,
//! the ledger still) and the expiry/reconciliation window has passed, so that anything a
//! reconciler is meant to repair has had its chance before the checks count it as broken.

use std::time::Duration;

use mongodb::Client;
use tokio::time::Instant;

use crate::dev::{Dev, last_lines};
use crate::read::{Pulse, pulse};
use crate::redis::RedisView;
use crate::report::Settle;

/// How the harness waits.
#[derive(Debug, Clone, Copy)]
pub struct QuiesceConfig {
    /// The least time to wait after recovery: the services' expiry and reconciliation deadlines.
    pub window: Duration,
    /// How much longer to wait, past the window, for a system that has not settled.
    pub timeout: Duration,
    pub poll: Duration,
}

/// The window implied by the services' timers (the same environment variables the chaos stack
/// gives them): the longest of the placement timeout, the re-announce delay and the reservation
/// check delay, plus two reconciliation intervals and one claim idle time for the repair to flow
/// through the streams.
pub fn window_from_env(env: impl Fn(&str) -> Option<String>) -> Duration {
    let ms = |name: &str, default: u64| {
        env(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default)
    };
    let longest = ms("RESERVATION_CHECK_AFTER_MS", 30_000)
        .max(ms("REANNOUNCE_AFTER_MS", 15_000))
        .max(ms("PLACEMENT_TIMEOUT_MS", 10_000));
    Duration::from_millis(
        longest + 2 * ms("RECONCILE_INTERVAL_MS", 2_000) + ms("CONSUMER_CLAIM_IDLE_MS", 8_000),
    )
}

/// Brings everything back and waits; what it saw.
pub async fn quiesce(
    dev: &Dev,
    mongo: &Client,
    redis: &RedisView,
    streams: &[String],
    config: QuiesceConfig,
) -> Settle {
    let started = Instant::now();
    let mut notes = Vec::new();
    // Anything a fault left frozen gets its SIGCONT (harmless when nothing is paused), then
    // everything not running is started.
    for target in ["redis", "mongo"] {
        let _ = dev.run(&["resume", target]).await;
    }
    if let Err(error) = dev.run(&["up", "--no-build"]).await {
        notes.push(format!(
            "dev.sh up after the traffic failed: {}",
            last_lines(&format!("{error:#}"), 3)
        ));
    }
    let window_end = Instant::now() + config.window;
    let give_up = window_end + config.timeout;
    let mut previous: Option<Pulse> = None;
    let mut last = None;
    let mut settled;
    loop {
        match pulse(mongo, redis, streams).await {
            Ok(now) => {
                let still = previous.is_some_and(|p| p == now);
                settled = now.created == 0 && now.backlog == 0 && still;
                previous = Some(now);
                last = Some(now);
            }
            Err(error) => {
                settled = false;
                previous = None;
                notes.push(format!("a poll failed: {error:#}"));
            }
        }
        let now = Instant::now();
        if (settled && now >= window_end) || now >= give_up {
            break;
        }
        tokio::time::sleep(config.poll).await;
    }
    if let Some(p) = last {
        notes.push(format!(
            "last poll: {} orders, {} still created, {} movements, group backlog {}",
            p.orders, p.created, p.movements, p.backlog
        ));
    }
    notes.truncate(6);
    Settle {
        settled,
        waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        window_ms: u64::try_from(config.window.as_millis()).unwrap_or(u64::MAX),
        detail: notes.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_services_timers() {
        let chaos = |name: &str| match name {
            "RECONCILE_INTERVAL_MS" => Some("2000".to_owned()),
            "PLACEMENT_TIMEOUT_MS" => Some("10000".to_owned()),
            "REANNOUNCE_AFTER_MS" => Some("15000".to_owned()),
            "RESERVATION_CHECK_AFTER_MS" => Some("30000".to_owned()),
            "CONSUMER_CLAIM_IDLE_MS" => Some("8000".to_owned()),
            _ => None,
        };
        assert_eq!(window_from_env(chaos), Duration::from_secs(42));
        let quick = |name: &str| (name == "RESERVATION_CHECK_AFTER_MS").then(|| "1000".to_owned());
        assert_eq!(
            window_from_env(quick),
            Duration::from_millis(15_000 + 4_000 + 8_000)
        );
    }
}
