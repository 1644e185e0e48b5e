//! A login flood through the gateway to the real identity: wrong passwords against one account
//! from many addresses, guesses from one IPv6 /64 rotating its addresses, and many clients at
//! once beyond what password hashing can take. Every answer is a 401, 429 or 503 given at once,
//! never the gateway's 504 (its real 5 s deadline), and the real user gets in afterwards.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use reqwest::Response;
use serde_json::json;
use shop_e2e::Shop;

/// Requests in flight at once: many times what hashing holds, few enough connections for a small
/// machine.
const IN_FLIGHT: usize = 48;

/// Each group of the flood is this many requests.
const PER_GROUP: usize = 100;

#[tokio::test]
async fn a_login_flood_through_the_gateway_is_answered_at_once_and_the_real_user_gets_in_after() {
    let shop = Shop::start_with(
        &[],
        |identity| {
            // One hash at a time and two waiting: the flood must overflow it.
            identity.hashing = identity::HashingLimits {
                concurrency: 1,
                queue: 2,
                max_wait: Duration::from_secs(1),
            };
            identity.throttle = identity::ThrottleSettings {
                account: identity::ThrottleLimit {
                    failures: 5,
                    max_delay: Duration::from_secs(2),
                },
                client: identity::ThrottleLimit {
                    failures: 10,
                    max_delay: Duration::from_secs(2),
                },
                ..identity::ThrottleSettings::default()
            };
        },
        |gateway| {
            // The production deadline: a login that waited into it would be a 504.
            gateway.upstream_timeout = Duration::from_secs(5);
            // The flood's clients are told apart by the address a balancer in front would set.
            gateway.trust_forwarded_for = true;
        },
    )
    .await;
    let victim = shop.register_and_login("flood-victim").await;
    let password = "flood-victim-has-a-long-password";

    // (group, client address, email, password) for every request of the flood.
    let mut requests = Vec::new();
    for i in 0..PER_GROUP {
        requests.push((
            "account",
            format!("198.18.{}.{}", i / 250, i % 250 + 1),
            victim.email.clone(),
            "wrong",
        ));
        requests.push((
            "ipv6 /64",
            format!("2001:db8:abcd:12::{:x}", i + 1),
            format!("nobody-{i}@example.com"),
            "wrong",
        ));
        requests.push((
            "many clients",
            format!("198.19.{}.{}", i / 250, i % 250 + 1),
            format!("someone-{i}@example.com"),
            "wrong",
        ));
    }
    let answers: Vec<(&str, u16)> = futures::stream::iter(requests)
        .map(|(group, ip, email, password)| {
            let shop = &shop;
            async move {
                (
                    group,
                    login(shop, &ip, &email, password).await.status().as_u16(),
                )
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;

    let mut counts: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for &(group, status) in &answers {
        *counts.entry((group, status)).or_default() += 1;
    }
    eprintln!(
        "login flood through the gateway, {} requests: {counts:?}",
        answers.len()
    );
    assert_eq!(answers.len(), 3 * PER_GROUP);
    for &(group, status) in &answers {
        assert!(
            [401, 429, 503].contains(&status),
            "{group}: {status} (504 would mean a login waited into the gateway's deadline): {counts:?}"
        );
    }
    let count = |group, status| counts.get(&(group, status)).copied().unwrap_or(0);
    assert!(
        count("account", 429) > 0,
        "the account is throttled: {counts:?}"
    );
    assert!(
        count("ipv6 /64", 429) > 0,
        "the /64 is throttled: {counts:?}"
    );
    let shed: usize = ["account", "ipv6 /64", "many clients"]
        .into_iter()
        .map(|group| count(group, 503))
        .sum();
    assert!(shed > 0, "hashing is overflowed and sheds: {counts:?}");

    // The real user, from an address of their own, gets in once the account's block has passed.
    let mut last = None;
    for _ in 0..10 {
        let response = login(&shop, "203.0.113.200", &victim.email, password).await;
        match response.status().as_u16() {
            200 => return,
            429 | 503 => {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
                    .unwrap_or_else(|| panic!("no Retry-After on a {}", response.status()));
                assert!(wait >= 1);
                last = Some(response.status());
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            other => panic!("the real user's login answered {other}"),
        }
    }
    panic!("the real user never got in; last answer {last:?}");
}

async fn login(shop: &Shop, ip: &str, email: &str, password: &str) -> Response {
    shop.gateway
        .client
        .post(format!("{}/api/auth/login", shop.gateway.address))
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap_or_else(|error| panic!("POST /api/auth/login through the gateway: {error}"))
}
