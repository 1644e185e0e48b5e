//! Failed logins are throttled per account and per client (IPv6 by /64), with `Retry-After`; a
//! throttled attempt is refused before anything is hashed; a success clears the account.

use std::time::Duration;

use fred::prelude::{ClientLike, KeysInterface};
use reqwest::Response;

use futures::future::join_all;
use identity::throttle::{Admission, LoginThrottle};
use identity::{ThrottleLimit, ThrottleSettings};

use crate::helpers::{LAPTOP, Origin, PASSWORD, TestIdentity, counter, email, json_body};

/// `Retry-After` in seconds, asserting it is there and at least 1.
fn retry_after(response: &Response) -> u64 {
    let secs = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no Retry-After in {:?}", response.headers()));
    assert!(secs >= 1, "Retry-After: {secs}");
    secs
}

fn from(ip: &str) -> Origin<'_> {
    Origin {
        ip,
        agent: LAPTOP.agent,
    }
}

#[tokio::test]
async fn an_account_is_blocked_after_its_failures_without_hashing_then_let_in_after_the_wait() {
    // The test configuration blocks an account after 3 failures, for 1 s, doubling up to 2 s.
    let t = TestIdentity::spawn().await;
    let email = email();
    t.registered(&email).await;
    for i in 0..3 {
        let ip = format!("198.51.100.{i}");
        let response = t.login(&email, "wrong password", from(&ip)).await;
        assert_eq!(response.status(), 401, "failure {i}");
    }
    let hashes_before = counter(&t.metrics().await, "password_hashes_total");

    // From a new address, with the right password even: the account is what is blocked.
    let blocked = t.login(&email, PASSWORD, from("192.0.2.1")).await;
    let in_other_case = t
        .login(&email.to_uppercase(), PASSWORD, from("192.0.2.2"))
        .await;

    assert_eq!(blocked.status(), 429);
    let wait = retry_after(&blocked);
    assert!(wait <= 2, "the block is capped at 2 s: {wait}");
    assert_eq!(
        json_body(blocked).await["error"]["code"],
        "too_many_attempts"
    );
    assert_eq!(
        in_other_case.status(),
        429,
        "the account is its normal form"
    );
    let metrics = t.metrics().await;
    assert_eq!(
        counter(&metrics, "password_hashes_total"),
        hashes_before,
        "a throttled attempt hashes nothing"
    );
    assert!(
        metrics.contains("logins_total{outcome=\"throttled\"} 2\n"),
        "{metrics}"
    );

    // After the wait, the right password gets in, and clears the account's failures.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let admitted = t.login(&email, PASSWORD, from("192.0.2.1")).await;
    assert_eq!(admitted.status(), 200);
    for i in 0..2 {
        let response = t.login(&email, "wrong again", from("192.0.2.1")).await;
        assert_eq!(
            response.status(),
            401,
            "a fresh count: failure {i} is a 401"
        );
    }
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64_whatever_address_they_rotate_to() {
    // The test configuration blocks a client after 6 failures; each attempt uses a new email, so
    // no account reaches its own threshold.
    let t = TestIdentity::spawn().await;
    for i in 1..=6 {
        let ip = format!("2001:db8:1:2::{i:x}");
        let response = t.login(&email(), "guess", from(&ip)).await;
        assert_eq!(response.status(), 401, "failure {i} from {ip}");
    }

    let same_64 = t
        .login(&email(), "guess", from("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        .await;
    let other_64 = t.login(&email(), "guess", from("2001:db8:1:3::1")).await;
    let ipv4 = t.login(&email(), "guess", from("203.0.113.99")).await;

    assert_eq!(same_64.status(), 429, "a new address in the same /64");
    retry_after(&same_64);
    assert_eq!(
        json_body(same_64).await["error"]["code"],
        "too_many_attempts"
    );
    assert_eq!(other_64.status(), 401, "another /64 is another client");
    assert_eq!(ipv4.status(), 401);
}

#[tokio::test]
async fn ipv4_clients_are_counted_per_address() {
    let t = TestIdentity::spawn().await;
    for i in 1..=6 {
        let response = t.login(&email(), "guess", from("203.0.113.50")).await;
        assert_eq!(response.status(), 401, "failure {i}");
    }

    let same = t.login(&email(), "guess", from("203.0.113.50")).await;
    let neighbour = t.login(&email(), "guess", from("203.0.113.51")).await;

    assert_eq!(same.status(), 429);
    assert_eq!(neighbour.status(), 401, "IPv4 addresses are not grouped");
}

#[tokio::test]
async fn throttle_keys_are_bounded_hashed_and_expire() {
    let t = TestIdentity::spawn().await;
    let email = email();
    let long_junk = "x".repeat(2000);
    t.login(&email, "guess", from("203.0.113.60")).await;
    t.login(&email, "guess", from(&long_junk)).await;

    let keys: Vec<String> = t
        .redis
        .pool()
        .custom(
            fred::cmd!("KEYS"),
            vec![format!("{}login-throttle:*", t.config.session_prefix)],
        )
        .await
        .expect("KEYS");

    assert_eq!(keys.len(), 3, "one account, two clients: {keys:?}");
    for key in &keys {
        assert!(key.len() < 150, "{key}");
        assert!(!key.contains(&email), "the email is hashed: {key}");
        let ttl: i64 = t.redis.pool().pttl(key).await.expect("PTTL");
        assert!(ttl > 0, "{key} expires (PTTL {ttl})");
    }
}

#[tokio::test]
async fn replicas_share_the_throttle() {
    let a = TestIdentity::spawn().await;
    // A second replica on the same database, Redis and prefixes.
    let b = TestIdentity::spawn_with(a.config.clone()).await;
    let email = email();
    a.registered(&email).await;

    for (i, replica) in [&a, &b, &a].into_iter().enumerate() {
        let ip = format!("198.51.100.{}", 10 + i);
        let response = replica.login(&email, "wrong", from(&ip)).await;
        assert_eq!(response.status(), 401);
    }

    let on_b = b.login(&email, PASSWORD, from("192.0.2.9")).await;
    assert_eq!(on_b.status(), 429, "failures on either replica count");
}

/// A throttle of its own (prefix) on the test Redis: accounts blocked after 2, clients after 100.
fn throttle(t: &TestIdentity) -> LoginThrottle {
    let limit = |failures| ThrottleLimit {
        failures,
        max_delay: Duration::from_secs(30),
    };
    LoginThrottle::new(
        t.redis.clone(),
        format!("{}own:", t.config.session_prefix),
        ThrottleSettings {
            window: Duration::from_secs(60),
            base_delay: Duration::from_secs(10),
            account: limit(2),
            client: limit(100),
        },
    )
}

#[tokio::test]
async fn concurrent_attempts_are_cut_at_the_threshold_before_any_is_checked() {
    let t = TestIdentity::spawn().await;
    let throttle = throttle(&t);

    let admissions = join_all((0..20).map(|i| {
        let throttle = throttle.clone();
        async move {
            throttle
                .admit("ada@example.com", &format!("10.3.0.{i}"))
                .await
        }
    }))
    .await;

    let admitted = admissions
        .iter()
        .filter(|a| matches!(a, Ok(Admission::Admitted(_))))
        .count();
    let refused: Vec<Duration> = admissions
        .iter()
        .filter_map(|a| match a {
            Ok(Admission::Refused { retry_after }) => Some(*retry_after),
            _ => None,
        })
        .collect();
    assert_eq!(
        admitted, 2,
        "exactly the threshold gets through: {admissions:?}"
    );
    assert_eq!(refused.len(), 18);
    assert!(refused.iter().all(|wait| *wait <= Duration::from_secs(10)));
}

#[tokio::test]
async fn an_unanswered_attempt_is_given_back_and_lifts_the_block_it_set() {
    let t = TestIdentity::spawn().await;
    let throttle = throttle(&t);
    let admit = || throttle.admit("ada@example.com", "10.4.0.1");
    let Ok(Admission::Admitted(_failed)) = admit().await else {
        panic!("the first attempt is admitted");
    };
    let Ok(Admission::Admitted(shed)) = admit().await else {
        panic!("the second attempt is admitted (and blocks the account)");
    };
    assert!(matches!(admit().await, Ok(Admission::Refused { .. })));

    throttle.release(&shed).await.expect("releasing");

    let Ok(Admission::Admitted(succeeded)) = admit().await else {
        panic!("one failure counted, no block");
    };
    throttle.succeeded(&succeeded).await.expect("settling");
    for i in 0..2 {
        assert!(
            matches!(admit().await, Ok(Admission::Admitted(_))),
            "a success starts the account afresh: attempt {i}"
        );
    }
}
