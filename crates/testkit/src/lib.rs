#![doc = include_str!("../README.md")]

pub mod app;

use std::future::Future;
use std::time::Duration;

/// The hint every "not set" panic carries.
const HOW_TO_RUN: &str = "run the tests through scripts/test.sh, which starts a private Redis and MongoDB-compatible server";

/// How long the MongoDB driver looks for a server before an operation fails,
/// unless the URI says otherwise.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest prefix [`unique_name`] keeps: `prefix` + `_` + 26-char ULID ≤ 63.
const MAX_PREFIX_LEN: usize = 63 - 1 - 26;

#[track_caller]
fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!("{name} is not set: {HOW_TO_RUN}"),
    }
}

/// The Redis URL of the test servers (`REDIS_URL`).
///
/// # Panics
///
/// If `REDIS_URL` is not set (the tests were not started by `scripts/test.sh`).
#[must_use]
#[track_caller]
pub fn redis_url() -> String {
    required_env("REDIS_URL")
}

/// The MongoDB connection string of the test servers (`MONGODB_URI`).
///
/// # Panics
///
/// If `MONGODB_URI` is not set (the tests were not started by `scripts/test.sh`).
#[must_use]
#[track_caller]
pub fn mongodb_uri() -> String {
    required_env("MONGODB_URI")
}

/// A name no other test uses: `prefix` + `_` + a lowercase ULID.
///
/// The result is at most 63 characters of `[a-z0-9_]`, so it is valid both as a
/// MongoDB database name (on MongoDB and FerretDB) and as a Redis key prefix.
/// To guarantee that, the prefix is lowercased, every other character becomes
/// `_`, and it is cut to 36 characters; an empty prefix becomes `t`.
#[must_use]
pub fn unique_name(prefix: &str) -> String {
    let mut name: String = prefix
        .chars()
        .take(MAX_PREFIX_LEN)
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        name.push('t');
    }
    name.push('_');
    name.push_str(&ulid::Ulid::new().to_string().to_ascii_lowercase());
    name
}

/// Connects to [`mongodb_uri`] and returns a fresh database named
/// [`unique_name`]`(prefix)`.
///
/// One client per call; the database is created by the first write and is not
/// dropped afterwards (the servers `scripts/test.sh` starts are thrown away).
///
/// # Panics
///
/// If `MONGODB_URI` is not set or is not a valid connection string.
pub async fn mongo_database(prefix: &str) -> mongodb::Database {
    let uri = mongodb_uri();
    let mut options = match mongodb::options::ClientOptions::parse(&uri).await {
        Ok(options) => options,
        Err(err) => panic!("MONGODB_URI is not a valid MongoDB connection string: {err}"),
    };
    if options.server_selection_timeout.is_none() {
        options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
    }
    options
        .app_name
        .get_or_insert_with(|| "shop-testkit".to_owned());
    let client = match mongodb::Client::with_options(options) {
        Ok(client) => client,
        Err(err) => panic!("cannot create a MongoDB client for MONGODB_URI: {err}"),
    };
    client.database(&unique_name(prefix))
}

/// How long [`eventually`] waits before failing the test: generous, because the suite shares two
/// cores with everything else; a passing check returns as soon as it holds.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Polls `check` every 50 ms until it returns `Some`, for at most [`PATIENCE`]: how tests wait for
/// asynchronous effects (a stream entry handled, an order settled) without fixed sleeps.
///
/// # Panics
///
/// When `check` has not returned `Some` in time; the message names `what`.
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(PATIENCE, what, check).await
}

/// [`eventually`] with another patience: for effects that wait on a deliberate delay (a dead
/// consumer's entries are taken over only after they have been idle for a while).
///
/// # Panics
///
/// When `check` has not returned `Some` within `patience`; the message names `what`.
pub async fn eventually_within<T, F, Fut>(patience: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {patience:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    //! Unit tests for [`unique_name`](super::unique_name); they need no servers.

    use super::unique_name;

    fn is_valid(name: &str) -> bool {
        name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }

    #[test]
    fn unique_names_are_unique_and_valid() {
        let a = unique_name("orders");
        let b = unique_name("orders");
        assert_ne!(a, b);
        assert!(a.starts_with("orders_"), "{a}");
        assert_eq!(a.len(), "orders_".len() + 26);
        assert!(is_valid(&a), "{a}");
    }

    #[test]
    fn awkward_prefixes_are_made_valid() {
        for prefix in ["", "Order-History.v2", "ünïcode", &"x".repeat(100)] {
            let name = unique_name(prefix);
            assert!(is_valid(&name), "{prefix:?} -> {name}");
        }
        assert!(unique_name("Order-History").starts_with("order_history_"));
        assert!(unique_name("").starts_with("t_"));
    }
}
