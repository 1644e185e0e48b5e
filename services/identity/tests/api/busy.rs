//! The password-hashing queue is bounded: a flood of logins and registrations is answered at once
//! (503 `busy`, `Retry-After`) beyond what it holds, every answer accounted for, and a real login
//! gets in afterwards.

use futures::future::join_all;
use identity::HashingLimits;
use std::time::Duration;

use crate::helpers::{
    LAPTOP, Origin, PASSWORD, TestIdentity, counter, email, json_body, test_config,
};

#[tokio::test]
async fn a_flood_beyond_the_hashing_queue_is_shed_at_once_and_accounted_for() {
    let t = TestIdentity::spawn_with(identity::Config {
        // One hash at a time, one waiting.
        hashing: HashingLimits {
            concurrency: 1,
            queue: 1,
            max_wait: Duration::from_secs(1),
        },
        ..test_config()
    })
    .await;
    let real = email();
    t.registered(&real).await;
    let before = t.metrics().await;
    let ips: Vec<String> = (0..40)
        .map(|i| format!("10.1.{}.{}", i / 200, i % 200))
        .collect();

    let t = &t;
    let logins = ips.iter().map(|ip| {
        let origin = Origin {
            ip,
            agent: LAPTOP.agent,
        };
        async move { t.login(&email(), "a guess", origin).await }
    });
    let registrations =
        (0..10).map(|_| async move { t.register(&email(), PASSWORD, "Flood").await });
    let (logins, registrations) = tokio::join!(join_all(logins), join_all(registrations));

    let mut login_statuses = [0u64; 2]; // 401, 503
    for response in logins {
        match response.status().as_u16() {
            401 => login_statuses[0] += 1,
            503 => {
                login_statuses[1] += 1;
                assert_busy(response).await;
            }
            other => panic!("a login answered {other}"),
        }
    }
    let mut registered = 0u64;
    let mut shed_registrations = 0u64;
    for response in registrations {
        match response.status().as_u16() {
            201 => registered += 1,
            503 => {
                shed_registrations += 1;
                assert_busy(response).await;
            }
            other => panic!("a registration answered {other}"),
        }
    }
    eprintln!(
        "flood: 40 logins ({} × 401, {} × 503), 10 registrations ({registered} × 201, \
         {shed_registrations} × 503)",
        login_statuses[0], login_statuses[1]
    );
    let after = t.metrics().await;
    let delta = |name: &str| counter(&after, name) - counter(&before, name);

    assert!(
        login_statuses[1] + shed_registrations > 0,
        "50 requests at once onto 2 places: some are shed ({login_statuses:?})"
    );
    assert_eq!(
        delta("password_hashes_total"),
        login_statuses[0] + registered,
        "every answered request hashed once, every shed one not at all"
    );
    let shed = delta("password_hashing_shed_total{reason=\"queue_full\"}")
        + delta("password_hashing_shed_total{reason=\"waited_too_long\"}");
    assert_eq!(shed, login_statuses[1] + shed_registrations);
    assert!(
        after.contains(&format!(
            "logins_total{{outcome=\"busy\"}} {}\n",
            login_statuses[1]
        )) || login_statuses[1] == 0,
        "{after}"
    );

    // The flood is over: the real user logs in (once Retry-After has passed).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let response = t.login(&real, PASSWORD, LAPTOP).await;
    assert_eq!(response.status(), 200);
}

async fn assert_busy(response: reqwest::Response) {
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    assert_eq!(retry_after, Some(1));
    assert_eq!(json_body(response).await["error"]["code"], "busy");
}
