#![doc = include_str!("../README.md")]

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber for `service_name` (the binary name, e.g. `order-history`).
///
/// Reads `RUST_LOG` and `LOG_FORMAT` once, here, so nothing deeper in the code looks at them.
/// A second call, or a call after another subscriber was set, changes nothing.
pub fn init(service_name: &str) {
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

    let builder = tracing_subscriber::fmt().with_env_filter(filter);
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
        init("orders");
        init("orders");
    }
}
