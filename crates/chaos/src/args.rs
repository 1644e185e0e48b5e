//! The command line of `shop-chaos`, and the durations it takes (`150s`, `30m`, `2m30s`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// Chaos run against a stack started by scripts/dev.sh (see crates/chaos/README.md). Usually run
/// through scripts/chaos.sh, which starts and removes that stack.
#[derive(Debug, Clone, Parser)]
#[command(name = "shop-chaos", version)]
pub struct Args {
    /// How long the traffic (and the faults) run: `150s`, `30m`, `2m30s`.
    #[arg(long, default_value = "150s", value_parser = parse_duration)]
    pub duration: Duration,
    /// The fault schedule's seed; without it one is picked and printed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Traffic only, no faults (a baseline: what the traffic alone does).
    #[arg(long)]
    pub no_faults: bool,
    /// The shares of patient, impatient (hang up after 5 ms–1 s) and browsing clients.
    #[arg(long, default_value = "55,30,15", value_parser = parse_mix)]
    pub mix: [u64; 3],
    /// Concurrent clients (each its own user). More is not more: past what the shop absorbs,
    /// requests pile up past the gateway's 5 s deadline and throughput collapses.
    #[arg(long, default_value_t = 20)]
    pub clients: usize,
    /// The stack's state directory (`SHOP_DEV_DIR` of dev.sh).
    #[arg(long, env = "SHOP_DEV_DIR")]
    pub dev_dir: PathBuf,
    /// The stack's gateway port (`SHOP_DEV_BASE_PORT` of dev.sh).
    #[arg(long, env = "SHOP_DEV_BASE_PORT", default_value_t = 8080)]
    pub base_port: u16,
    /// scripts/dev.sh.
    #[arg(long, default_value = "scripts/dev.sh")]
    pub dev_script: PathBuf,
    /// The services' `STREAM_PREFIX`.
    #[arg(long, env = "STREAM_PREFIX", default_value = "")]
    pub stream_prefix: String,
    /// The least wait after the traffic before checking; default: from the services' timers
    /// (RESERVATION_CHECK_AFTER_MS, REANNOUNCE_AFTER_MS, ...).
    #[arg(long, value_parser = parse_duration)]
    pub settle_window: Option<Duration>,
    /// How much longer to wait, past the window, for a system that has not settled.
    #[arg(long, default_value = "45s", value_parser = parse_duration)]
    pub settle_timeout: Duration,
    /// Where the report goes (chaos-<seed>.md, .json, latest.md).
    #[arg(long, default_value = "target/chaos")]
    pub report_dir: PathBuf,
    /// Fail the run unless it applied at least this many faults…
    #[arg(long)]
    pub require_faults: Option<usize>,
    /// …of at least this many kinds…
    #[arg(long)]
    pub require_kinds: Option<usize>,
    /// …and created at least this many orders.
    #[arg(long)]
    pub require_orders: Option<u64>,
}

/// `55,30,15`: three weights, not all zero.
pub fn parse_mix(text: &str) -> Result<[u64; 3], String> {
    let parts: Vec<u64> = text
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<u64>()
                .map_err(|e| format!("'{text}': {e}"))
        })
        .collect::<Result<_, _>>()?;
    match parts[..] {
        [a, b, c] if a + b + c > 0 => Ok([a, b, c]),
        _ => Err(format!("'{text}': expected three weights such as 55,30,15")),
    }
}

/// `90`, `150s`, `500ms`, `30m`, `2m30s`, `1h`: a sum of numbers with units (seconds without one).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("an empty duration".to_owned());
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("'{text}': expected a number at '{rest}'"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|e| format!("'{text}': {e}"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        total += match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number * 60),
            "h" => Duration::from_secs(number * 3_600),
            other => return Err(format!("'{text}': unknown unit '{other}' (ms, s, m, h)")),
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_and_without_units() {
        assert_eq!(parse_duration("150s"), Ok(Duration::from_secs(150)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_duration("2m30s"), Ok(Duration::from_secs(150)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("s").is_err());
        assert_eq!(parse_mix("55, 30,15"), Ok([55, 30, 15]));
        assert!(parse_mix("1,2").is_err());
        assert!(parse_mix("0,0,0").is_err());
    }
}
