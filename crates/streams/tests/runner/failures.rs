//! Entries that cannot succeed: dead-lettering, poison entries, and consumers that die.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{Count, TestStream, eventually, fail};

#[tokio::test]
async fn an_always_failing_entry_is_dead_lettered_after_max_deliveries_without_blocking_the_entries_behind_it()
 {
    let t = TestStream::new().await;
    let mut config = t.config();
    // One handler at a time: the strictest setting for head-of-line blocking.
    config.concurrency = 1;
    let good = Count::default();
    let counter = good.clone();
    let runner = t.spawn(config, move |d| {
        let good = counter.clone();
        async move {
            if d.event.0 == 0 {
                return fail("card network unreachable");
            }
            good.bump();
            Ok(())
        }
    });

    let ids = t.publish(0..21).await;

    eventually(
        Duration::from_secs(5),
        "the 20 entries behind the poison one",
        || async { good.get() == 20 },
    )
    .await;
    assert_eq!(
        t.len(&t.dlq()).await,
        0,
        "the good entries finished while the poison one was still being retried"
    );
    eventually(
        Duration::from_secs(10),
        "the poison entry is dead-lettered",
        || async { t.len(&t.dlq()).await == 1 },
    )
    .await;
    eventually(Duration::from_secs(5), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    assert_eq!(runner.metrics.dead_lettered.get(), 1);
    assert_eq!(runner.metrics.failed.get(), 3);
    runner.stop().await;

    let dead = t.dead_letters().await;
    let entry = &dead[0];
    assert_eq!(entry.get("n"), Some("0"), "the original fields are kept");
    assert_eq!(entry.get("type"), Some("Numbered"));
    assert_eq!(entry.get("group"), Some("testers"));
    assert_eq!(entry.get("originalId"), Some(ids[0].as_str()));
    assert_eq!(entry.get("deliveries"), Some("3"));
    assert_eq!(entry.get("error"), Some("card network unreachable"));
    t.cleanup().await;
}

#[tokio::test]
async fn an_undecodable_entry_goes_to_the_dead_letter_stream_at_once_and_the_runner_goes_on() {
    let t = TestStream::new().await;
    let handled = Arc::new(Mutex::new(Vec::new()));
    let seen = handled.clone();
    let runner = t.spawn(t.config(), move |d| {
        let seen = seen.clone();
        async move {
            seen.lock().expect("lock").push(d.event.0);
            Ok(())
        }
    });

    let not_a_number = t
        .publish_raw(&[("type", "Numbered"), ("n", "twelve")])
        .await;
    let wrong_type = t
        .publish_raw(&[("type", "SomethingElse"), ("n", "1")])
        .await;
    t.publish([7]).await;

    eventually(
        Duration::from_secs(5),
        "both bad entries dead-lettered",
        || async { t.len(&t.dlq()).await == 2 },
    )
    .await;
    eventually(
        Duration::from_secs(5),
        "the good entry is processed",
        || async { runner.processed() == 1 },
    )
    .await;
    eventually(Duration::from_secs(5), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    runner.stop().await;

    assert_eq!(
        *handled.lock().expect("lock"),
        vec![7],
        "the handler never saw the bad entries"
    );
    let dead = t.dead_letters().await;
    assert_eq!(dead[0].get("originalId"), Some(not_a_number.as_str()));
    assert_eq!(
        dead[0].get("deliveries"),
        Some("1"),
        "no retries for what can never decode"
    );
    assert!(
        dead[0]
            .get("error")
            .is_some_and(|e| e.contains("undecodable") && e.contains("'n'")),
        "{dead:?}"
    );
    assert_eq!(dead[1].get("originalId"), Some(wrong_type.as_str()));
    assert!(
        dead[1]
            .get("error")
            .is_some_and(|e| e.contains("SomethingElse"))
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_consumer_that_dies_holding_pending_entries_loses_nothing_a_second_consumer_claims_them()
{
    let t = TestStream::new().await;
    // The first consumer hangs in every handler and is then killed: it never acks anything.
    let mut doomed = t.config();
    doomed.claim_idle = Duration::from_secs(60);
    doomed.handler_timeout = Duration::from_secs(50);
    let started = Count::default();
    let counter = started.clone();
    let first = t.spawn(doomed, move |_| {
        counter.bump();
        std::future::pending()
    });
    t.publish(0..5).await;
    eventually(
        Duration::from_secs(5),
        "the first consumer holds all five",
        || async { started.get() == 5 },
    )
    .await;
    first.task.abort();

    let survivor = t.config();
    let done = Arc::new(Mutex::new(HashSet::new()));
    let record = done.clone();
    let second = t.spawn(survivor, move |d| {
        let record = record.clone();
        async move {
            assert_eq!(
                d.deliveries, 2,
                "a claimed entry counts as a second delivery"
            );
            record.lock().expect("lock").insert(d.event.0);
            Ok(())
        }
    });

    eventually(
        Duration::from_secs(10),
        "the survivor processed all five",
        || async { done.lock().expect("lock").len() == 5 },
    )
    .await;
    eventually(Duration::from_secs(5), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    assert_eq!(second.metrics.claimed.get(), 5);
    second.stop().await;
    t.cleanup().await;
}
