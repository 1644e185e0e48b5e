#![doc = include_str!("../README.md")]

mod batched;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Keeps the log writer running; dropping it writes out what is buffered. Hold it in `main` until
/// the service has stopped.
#[must_use = "dropping the guard stops the log writer"]
#[derive(Debug)]
pub struct LogGuard {
    _flusher: batched::Flusher,
}

/// Installs the global subscriber for `service_name` (the binary name, e.g. `order-history`).
///
/// Reads `RUST_LOG` and `LOG_FORMAT` once, here, so nothing deeper in the code looks at them.
/// A second call, or a call after another subscriber was set, changes nothing.
///
/// Lines are written to stdout in batches, every 100 ms, by a thread of their own (see `batched`):
/// a request only formats its line and appends it to a buffer. Lines are never dropped; dropping
/// the returned guard writes out the rest.
pub fn init(service_name: &str) -> LogGuard {
    let (filter, rejected) = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => match EnvFilter::try_new(&directives) {
            Ok(filter) => (filter, None),
            Err(error) => (
                EnvFilter::new(default_filter(service_name)),
                Some((directives, error)),
            ),
        },
        _ => (EnvFilter::new(default_filter(service_name)), None),
    };
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));

    let (writer, flusher) = batched::stdout();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours only for a person at a terminal: escape codes in a log file are noise to read
        // and to search, and cost time to write.
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(writer);
    let installed = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            // The current span already carries the request's fields; the full list repeats them.
            .with_span_list(false)
            .try_init()
            .is_ok()
    } else {
        builder.try_init().is_ok()
    };

    // Only the call that installed the subscriber reports, so the warning lands in a real log.
    if installed && let Some((directives, error)) = rejected {
        tracing::warn!(
            service = service_name,
            %directives,
            %error,
            "ignoring invalid RUST_LOG, using the default filter"
        );
    }
    LogGuard { _flusher: flusher }
}

/// The filter used when `RUST_LOG` is unset: `info` overall, `debug` for the service's own crate
/// (whose target is the binary name with `-` turned into `_`) and for the shared `shop_*` crates.
pub fn default_filter(service_name: &str) -> String {
    let own_crate = service_name.replace('-', "_");
    format!("info,{own_crate}=debug,shop_streams=debug,shop_http=debug")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_filter_targets_the_crate_name_of_a_hyphenated_service() {
        assert_eq!(
            default_filter("order-history"),
            "info,order_history=debug,shop_streams=debug,shop_http=debug"
        );
        assert!(EnvFilter::try_new(default_filter("order-history")).is_ok());
    }

    #[test]
    fn init_twice_does_not_panic() {
        let _first = init("orders");
        let _second = init("orders");
    }
}
