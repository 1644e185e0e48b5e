//! The gateway's configuration, read from environment variables in one place.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;
use shop_config::{Env, EnvError};
use shop_http::edge::ConnectionLimits;
use shop_streams::StreamNames;

use crate::admin_token;
use crate::upstream::UpstreamUrls;

/// The port of `gateway` in the shop's port plan: the only one published outside.
pub const DEFAULT_PORT: u16 = 8080;

/// `UPSTREAM_TIMEOUT_MS` when unset: above `orders`' 4 s deadline on `products`, so a slow
/// reservation is answered by `orders` (with its own error) before the gateway gives up on it.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// `HEALTH_TIMEOUT_MS` when unset: how long `/health` waits for each service's readiness.
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(1);

/// `REBUILD_TIMEOUT_MS` when unset: a rebuild replays whole streams, far longer than a request.
pub const DEFAULT_REBUILD_TIMEOUT: Duration = Duration::from_secs(120);

/// `BODY_LIMIT_BYTES` when unset: the largest order is 100 lines, a few kilobytes.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// `CART_TTL_SECONDS` when unset: a week, renewed by every change to the cart.
pub const DEFAULT_CART_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// `ORDER_EVENTS_PER_USER` when unset: a few order pages open at once, per replica.
pub const DEFAULT_ORDER_EVENTS_PER_USER: usize = 4;

/// `HEADER_READ_TIMEOUT_MS` when unset: a client has this long to send a request's head, and an
/// idle kept-alive connection is closed after it (nginx's `client_header_timeout` is 60 s).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// `MAX_CONNECTIONS_PER_CLIENT` when unset: far more than a browser (6) or a load test opens.
pub const DEFAULT_CONNECTIONS_PER_CLIENT: usize = 256;

/// Everything the gateway reads at startup. Fields are public so tests build one directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BIND_ADDR`, default `0.0.0.0:8080`. Port 0 picks a free port (tests).
    pub bind_addr: SocketAddr,
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`. Secret: it may carry a password.
    pub redis_url: SecretString,
    /// `IDENTITY_URL`, `PRODUCTS_URL`, `ORDERS_URL`, `PAYMENTS_URL`, `ORDER_HISTORY_URL`; by
    /// default the port plan on this machine (`http://127.0.0.1:8081`, ...).
    pub upstreams: UpstreamUrls,
    /// `UPSTREAM_TIMEOUT_MS`, default 5000: the deadline of a forwarded request, connecting
    /// included. Past it the client gets 504 `upstream_timeout`.
    pub upstream_timeout: Duration,
    /// `HEALTH_TIMEOUT_MS`, default 1000: the deadline of each readiness probe behind `/health`.
    pub health_timeout: Duration,
    /// `REBUILD_TIMEOUT_MS`, default 120000: the deadline of `POST /api/ops/order-history/rebuild`.
    pub rebuild_timeout: Duration,
    /// `BODY_LIMIT_BYTES`, default 65536: larger request bodies get 413 `payload_too_large`.
    pub body_limit: usize,
    /// `HEADER_READ_TIMEOUT_MS` (default 30000) and `MAX_CONNECTIONS_PER_CLIENT` (default 256, `0`
    /// for no cap; behind a proxy every connection comes from the proxy's address): the limits on
    /// each client connection (`shop_http::edge`).
    pub connection_limits: ConnectionLimits,
    /// `RATE_LIMIT_PER_SECOND` (default 50) and `RATE_LIMIT_BURST` (default 100), per client and
    /// per gateway replica; `RATE_LIMIT_PER_SECOND=0` turns limiting off (`None`).
    pub rate_limit: Option<RateLimit>,
    /// `TRUST_FORWARDED_FOR`, default `false`: take the client's address from the first
    /// `x-forwarded-for` entry instead of the peer address. Only behind a proxy that sets it.
    pub trust_forwarded_for: bool,
    /// `CORS_ALLOWED_ORIGINS`, default `*`: a comma-separated list of origins browsers may call from.
    pub cors_allowed_origins: AllowedOrigins,
    /// `SHOP_ADMIN_TOKEN`, or else the token in the file `SHOP_ADMIN_TOKEN_FILE` (written there
    /// on first start when missing): the bearer token of `/api/ops/*`. Placeholders and tokens
    /// under 128 bits of estimated entropy are refused (`admin_token::weakness`).
    pub admin_token: SecretString,
    /// `OPS_ALLOWED_NETWORKS`, default loopback and the private ranges
    /// ([`DEFAULT_OPS_NETWORKS`]): the client addresses `/api/ops/*` answers, whatever the token.
    /// `*` allows every address.
    pub ops_allowed_networks: OpsNetworks,
    /// `SESSION_PREFIX`, default empty: the session key prefix; `identity` must use the same.
    pub session_prefix: String,
    /// The stream names, from `STREAM_PREFIX` (default empty: `ORDERS_STREAM`, ...).
    pub streams: StreamNames,
    /// `STREAM_MAX_LEN`, default `shop_streams::DEFAULT_MAX_LEN`: the cap of a stream that dead
    /// letters are replayed onto.
    pub stream_max_len: u64,
    /// `CART_TTL_SECONDS`, default 604800 (7 days): how long an untouched cart is kept.
    pub cart_ttl: Duration,
    /// `ORDER_EVENTS_PER_USER`, default 4: live order streams one user may hold open per replica;
    /// beyond, 429 `too_many_streams`.
    pub order_events_per_user: usize,
}

/// A token bucket per client: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

/// The origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `*`: any origin. Safe here because authentication is a bearer token, never a cookie.
    Any,
    List(Vec<String>),
}

impl Config {
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_source(&Env::process())
    }

    pub fn from_source(env: &Env) -> Result<Self, EnvError> {
        Ok(Self {
            bind_addr: env.bind_addr(DEFAULT_PORT)?,
            redis_url: env.redis_url()?,
            upstreams: UpstreamUrls::from_env(env)?,
            upstream_timeout: env.millis_or("UPSTREAM_TIMEOUT_MS", DEFAULT_UPSTREAM_TIMEOUT)?,
            health_timeout: env.millis_or("HEALTH_TIMEOUT_MS", DEFAULT_HEALTH_TIMEOUT)?,
            rebuild_timeout: env.millis_or("REBUILD_TIMEOUT_MS", DEFAULT_REBUILD_TIMEOUT)?,
            body_limit: env.or("BODY_LIMIT_BYTES", DEFAULT_BODY_LIMIT)?,
            connection_limits: ConnectionLimits {
                header_read_timeout: env
                    .millis_or("HEADER_READ_TIMEOUT_MS", DEFAULT_HEADER_READ_TIMEOUT)?,
                per_peer: match env
                    .or("MAX_CONNECTIONS_PER_CLIENT", DEFAULT_CONNECTIONS_PER_CLIENT)?
                {
                    0 => None,
                    cap => Some(cap),
                },
            },
            rate_limit: rate_limit(env)?,
            trust_forwarded_for: env.or("TRUST_FORWARDED_FOR", false)?,
            cors_allowed_origins: allowed_origins(env)?,
            admin_token: admin_token(env)?,
            ops_allowed_networks: ops_networks(env)?,
            session_prefix: shop_sessions::key_prefix_from_env(env)?,
            streams: StreamNames::with_prefix(&env.or("STREAM_PREFIX", String::new())?),
            stream_max_len: env.or("STREAM_MAX_LEN", shop_streams::DEFAULT_MAX_LEN)?,
            cart_ttl: Duration::from_secs(env.or("CART_TTL_SECONDS", DEFAULT_CART_TTL.as_secs())?),
            order_events_per_user: env
                .or("ORDER_EVENTS_PER_USER", DEFAULT_ORDER_EVENTS_PER_USER)?,
        })
    }
}

fn rate_limit(env: &Env) -> Result<Option<RateLimit>, EnvError> {
    let per_second: u32 = env.or("RATE_LIMIT_PER_SECOND", 50)?;
    let burst: u32 = env.or("RATE_LIMIT_BURST", 100)?;
    let Some(per_second) = NonZeroU32::new(per_second) else {
        return Ok(None);
    };
    let burst = NonZeroU32::new(burst).ok_or_else(|| EnvError::Invalid {
        name: "RATE_LIMIT_BURST".to_owned(),
        value: burst.to_string(),
        reason: "a bucket of 0 admits no request; set RATE_LIMIT_PER_SECOND=0 to disable"
            .to_owned(),
    })?;
    Ok(Some(RateLimit { per_second, burst }))
}

/// `OPS_ALLOWED_NETWORKS` when unset: loopback and the private ranges (RFC 1918, RFC 4193), where
/// an operator's `kubectl port-forward`, a VPN or the compose host network come from. A client on
/// the internet reaches the operators' endpoints only if the deployment says so.
pub const DEFAULT_OPS_NETWORKS: &str =
    "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7";

/// The client networks the operators' endpoints answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpsNetworks {
    Any,
    List(Vec<ipnet::IpNet>),
}

impl OpsNetworks {
    pub fn allows(&self, client: std::net::IpAddr) -> bool {
        // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let client = client.to_canonical();
        match self {
            Self::Any => true,
            Self::List(networks) => networks.iter().any(|network| network.contains(&client)),
        }
    }
}

fn ops_networks(env: &Env) -> Result<OpsNetworks, EnvError> {
    let raw = env.or("OPS_ALLOWED_NETWORKS", DEFAULT_OPS_NETWORKS.to_owned())?;
    let entries: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.contains(&"*") {
        return Ok(OpsNetworks::Any);
    }
    entries
        .iter()
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| EnvError::Invalid {
                    name: "OPS_ALLOWED_NETWORKS".to_owned(),
                    value: raw.clone(),
                    reason: format!("{entry:?} is not a network like 10.0.0.0/8 or an address"),
                })
        })
        .collect::<Result<_, _>>()
        .map(OpsNetworks::List)
}

fn allowed_origins(env: &Env) -> Result<AllowedOrigins, EnvError> {
    let raw = env.or("CORS_ALLOWED_ORIGINS", "*".to_owned())?;
    let origins: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(str::to_owned)
        .collect();
    if origins.iter().any(|origin| origin == "*") {
        return Ok(AllowedOrigins::Any);
    }
    if let Some(bad) = origins.iter().find(|origin| !is_origin(origin)) {
        return Err(EnvError::Invalid {
            name: "CORS_ALLOWED_ORIGINS".to_owned(),
            value: raw.clone(),
            reason: format!("{bad:?} is not an origin like https://shop.example"),
        });
    }
    Ok(AllowedOrigins::List(origins))
}

/// `scheme://host[:port]`, nothing more: browsers send exactly that in `Origin`.
fn is_origin(origin: &str) -> bool {
    reqwest::Url::parse(origin).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.path() == "/"
            && !origin.ends_with('/')
    })
}

/// `SHOP_ADMIN_TOKEN`, else the token in `SHOP_ADMIN_TOKEN_FILE` (generated there on first start);
/// either way refused when weak (see [`admin_token::weakness`]).
fn admin_token(env: &Env) -> Result<SecretString, EnvError> {
    let invalid = |name: &str, reason: String| EnvError::Invalid {
        name: name.to_owned(),
        value: "<redacted>".to_owned(),
        reason,
    };
    let (name, token) = match env.get("SHOP_ADMIN_TOKEN")? {
        Some(token) => ("SHOP_ADMIN_TOKEN", SecretString::from(token)),
        None => match env.get("SHOP_ADMIN_TOKEN_FILE")? {
            Some(path) => {
                let path = Path::new(&path);
                let token = admin_token::load_or_generate(path).map_err(|error| {
                    invalid(
                        "SHOP_ADMIN_TOKEN_FILE",
                        format!("{}: {error}", path.display()),
                    )
                })?;
                ("SHOP_ADMIN_TOKEN_FILE", token)
            }
            None => {
                return Err(invalid(
                    "SHOP_ADMIN_TOKEN",
                    format!("is required; {}", admin_token::HOW_TO_MAKE_ONE),
                ));
            }
        },
    };
    admin_token::accept(token).map_err(|reason| invalid(name, reason))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const TOKEN: (&str, &str) = (
        "SHOP_ADMIN_TOKEN",
        "9f1c2e7a4b6d8f0e3a5c7b9d1f2e4a6c8b0d2f4e6a8c0b2d4f6e8a0c2b4d6f8e",
    );

    #[test]
    fn defaults_follow_the_port_plan() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs([TOKEN]))?;

        assert_eq!(config.bind_addr, SocketAddr::from(([0, 0, 0, 0], 8080)));
        assert_eq!(config.upstreams.identity.as_str(), "http://127.0.0.1:8085/");
        assert_eq!(config.upstreams.products.as_str(), "http://127.0.0.1:8081/");
        assert_eq!(config.upstreams.orders.as_str(), "http://127.0.0.1:8082/");
        assert_eq!(config.upstreams.payments.as_str(), "http://127.0.0.1:8083/");
        assert_eq!(
            config.upstreams.order_history.as_str(),
            "http://127.0.0.1:8084/"
        );
        assert_eq!(config.upstream_timeout, Duration::from_secs(5));
        assert_eq!(config.health_timeout, Duration::from_secs(1));
        assert_eq!(config.body_limit, 65_536);
        let limit = config
            .rate_limit
            .map(|l| (l.per_second.get(), l.burst.get()));
        assert_eq!(limit, Some((50, 100)));
        assert!(!config.trust_forwarded_for);
        assert_eq!(config.cors_allowed_origins, AllowedOrigins::Any);
        assert_eq!(config.admin_token.expose_secret(), TOKEN.1);
        assert_eq!(config.session_prefix, "");
        assert_eq!(config.streams.orders, "ORDERS_STREAM");
        assert_eq!(config.stream_max_len, shop_streams::DEFAULT_MAX_LEN);
        Ok(())
    }

    #[test]
    fn variables_override_the_defaults() -> Result<(), EnvError> {
        let config = Config::from_source(&Env::from_pairs([
            TOKEN,
            ("ORDERS_URL", "http://orders:8082"),
            ("UPSTREAM_TIMEOUT_MS", "250"),
            ("BODY_LIMIT_BYTES", "1024"),
            ("RATE_LIMIT_PER_SECOND", "0"),
            ("TRUST_FORWARDED_FOR", "true"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://shop.example, http://localhost:3000",
            ),
            ("SESSION_PREFIX", "staging:"),
            ("STREAM_PREFIX", "t1:"),
            ("STREAM_MAX_LEN", "1000"),
        ]))?;

        assert_eq!(config.upstreams.orders.host_str(), Some("orders"));
        assert_eq!(config.upstream_timeout, Duration::from_millis(250));
        assert_eq!(config.body_limit, 1024);
        assert_eq!(config.rate_limit, None, "0 per second turns limiting off");
        assert!(config.trust_forwarded_for);
        assert_eq!(
            config.cors_allowed_origins,
            AllowedOrigins::List(vec![
                "https://shop.example".to_owned(),
                "http://localhost:3000".to_owned()
            ])
        );
        assert_eq!(config.session_prefix, "staging:");
        assert_eq!(config.streams.payments, "t1:PAYMENTS_STREAM");
        assert_eq!(config.stream_max_len, 1000);
        Ok(())
    }

    #[test]
    fn the_gateway_refuses_to_start_without_a_strong_enough_admin_token() {
        let refused = |pairs: &[(&str, &str)]| match Config::from_source(&Env::from_pairs(
            pairs.iter().copied(),
        )) {
            Err(EnvError::Invalid {
                name,
                value,
                reason,
            }) => {
                assert_eq!(value, "<redacted>");
                assert!(reason.contains("openssl rand -hex 32"), "{reason}");
                name
            }
            other => panic!("{pairs:?} gave {other:?}"),
        };

        assert_eq!(refused(&[]), "SHOP_ADMIN_TOKEN");
        for weak in [
            "admin",
            "change-me-to-a-long-random-string",
            "REPLACE_WITH_A_LONG_RANDOM_TOKEN",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert_eq!(refused(&[("SHOP_ADMIN_TOKEN", weak)]), "SHOP_ADMIN_TOKEN");
        }
    }

    #[test]
    fn ops_networks_default_to_loopback_and_private_ranges() -> Result<(), EnvError> {
        let networks = |value: Option<&str>| {
            let mut pairs = vec![TOKEN];
            if let Some(value) = value {
                pairs.push(("OPS_ALLOWED_NETWORKS", value));
            }
            Config::from_source(&Env::from_pairs(pairs)).map(|c| c.ops_allowed_networks)
        };
        let ip = |raw: &str| {
            raw.parse::<std::net::IpAddr>()
                .unwrap_or_else(|e| panic!("{e}"))
        };

        let default = networks(None)?;
        for inside in [
            "127.0.0.1",
            "::1",
            "10.4.5.6",
            "172.20.0.3",
            "192.168.1.9",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(default.allows(ip(inside)), "{inside}");
        }
        for outside in ["203.0.113.7", "8.8.8.8", "2001:db8::1", "172.32.0.1"] {
            assert!(!default.allows(ip(outside)), "{outside}");
        }
        assert_eq!(networks(Some("*"))?, OpsNetworks::Any);
        assert!(networks(Some("198.51.100.4"))?.allows(ip("198.51.100.4")));
        assert!(matches!(
            networks(Some("10.0.0.0/8,internet")),
            Err(EnvError::Invalid { name, .. }) if name == "OPS_ALLOWED_NETWORKS"
        ));
        Ok(())
    }

    #[test]
    fn the_token_file_is_read_or_generated_and_also_checked()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("shop-gw-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let generated = dir.join("generated");
        let _ = std::fs::remove_file(&generated);
        let weak = dir.join("weak");
        std::fs::write(&weak, "change-me\n")?;
        let file = |path: &std::path::Path| {
            Config::from_source(&Env::from_pairs([(
                "SHOP_ADMIN_TOKEN_FILE",
                path.to_string_lossy().into_owned(),
            )]))
        };

        let first = file(&generated)?;
        let again = file(&generated)?;
        assert_eq!(
            first.admin_token.expose_secret(),
            again.admin_token.expose_secret()
        );
        assert_eq!(
            std::fs::read_to_string(&generated)?.trim(),
            first.admin_token.expose_secret()
        );
        assert!(
            matches!(file(&weak), Err(EnvError::Invalid { name, .. }) if name == "SHOP_ADMIN_TOKEN_FILE")
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn a_malformed_value_is_an_error_naming_the_variable() {
        for (name, value) in [
            ("PRODUCTS_URL", "products:8081"),
            ("ORDER_HISTORY_URL", "ftp://order-history"),
            ("UPSTREAM_TIMEOUT_MS", "5s"),
            ("RATE_LIMIT_BURST", "0"),
            ("CORS_ALLOWED_ORIGINS", "shop.example"),
            ("CORS_ALLOWED_ORIGINS", "https://shop.example/path"),
            ("TRUST_FORWARDED_FOR", "yes"),
        ] {
            let error = Config::from_source(&Env::from_pairs([TOKEN, (name, value)])).err();

            assert!(
                matches!(&error, Some(EnvError::Invalid { name: got, .. }) if got == name),
                "{name}={value}: {error:?}"
            );
        }
    }
}
