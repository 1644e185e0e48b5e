//! Restarts and shutdown: a consumer resumes with its own pending entries, and a graceful stop
//! finishes what it started without taking anything new.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fred::prelude::StreamsInterface;

use crate::helpers::{Count, TestStream, eventually};

#[tokio::test]
async fn a_restarted_consumer_reprocesses_its_own_pending_entries_first() {
    let t = TestStream::new().await;
    let mut config = t.config();
    // A stable consumer name (a pod name, say) and no claiming: recovery comes from the restart.
    config.consumer = "stable-consumer".into();
    config.claim_idle = Duration::from_secs(60);
    config.handler_timeout = Duration::from_secs(50);
    config.concurrency = 1;
    let started = Count::default();
    let counter = started.clone();
    let crashed = t.spawn(config.clone(), move |_| {
        counter.bump();
        std::future::pending()
    });
    t.publish(0..3).await;
    eventually(
        Duration::from_secs(5),
        "the first run took an entry",
        || async { started.get() >= 1 },
    )
    .await;
    crashed.task.abort();
    // Let the aborted run's blocking read settle, so its connection takes nothing more.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let held = t.pending().await;
    assert!(held >= 1, "the crashed run left entries pending");

    t.publish(3..6).await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let record = order.clone();
    let restarted = t.spawn(config, move |d| {
        let record = record.clone();
        async move {
            record.lock().expect("lock").push((d.event.0, d.deliveries));
            Ok(())
        }
    });

    eventually(Duration::from_secs(5), "all six processed", || async {
        order.lock().expect("lock").len() == 6
    })
    .await;
    restarted.stop().await;
    let order = order.lock().expect("lock").clone();
    let held = usize::try_from(held).unwrap_or(usize::MAX);
    let (recovered, fresh) = order.split_at(held);
    assert!(
        recovered.iter().all(|&(_, deliveries)| deliveries == 2),
        "pending entries come first: {order:?}"
    );
    assert!(
        fresh.iter().all(|&(_, deliveries)| deliveries == 1),
        "then new ones: {order:?}"
    );
    let numbers: Vec<u64> = order.iter().map(|&(n, _)| n).collect();
    assert_eq!(numbers, (0..6).collect::<Vec<_>>());
    t.cleanup().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_and_acks_in_flight_entries_and_reads_no_new_ones() {
    let t = TestStream::new().await;
    let mut config = t.config();
    config.claim_idle = Duration::from_secs(5);
    config.handler_timeout = Duration::from_secs(2);
    config.block = Duration::from_secs(30);
    let (started, finished) = (Count::default(), Count::default());
    let (s, f) = (started.clone(), finished.clone());
    let runner = t.spawn(config, move |_| {
        let (s, f) = (s.clone(), f.clone());
        async move {
            s.bump();
            tokio::time::sleep(Duration::from_millis(400)).await;
            f.bump();
            Ok(())
        }
    });
    let first = t.publish(0..5).await;
    eventually(Duration::from_secs(5), "five handlers running", || async {
        started.get() == 5
    })
    .await;

    runner.shutdown.cancel();
    // Give the runner a moment to act on the signal (an entry that reaches a read already under way
    // is handed over by Redis and is processed, not lost); anything published after that is not read.
    tokio::time::sleep(Duration::from_millis(100)).await;
    t.publish(5..8).await;
    let stopped = tokio::time::timeout(Duration::from_secs(5), runner.task).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "stopped well before the 30 s block: {stopped:?}"
    );

    assert_eq!(finished.get(), 5, "in-flight handlers ran to completion");
    assert_eq!(started.get(), 5, "no new entry was handled");
    assert_eq!(
        t.pending().await,
        0,
        "every finished entry was acknowledged"
    );
    let groups: Vec<std::collections::HashMap<String, fred::types::Value>> = t
        .redis
        .pool()
        .xinfo_groups(t.stream.as_str())
        .await
        .expect("XINFO GROUPS");
    let last_delivered = groups[0]
        .get("last-delivered-id")
        .and_then(|v| v.as_string());
    assert_eq!(
        last_delivered.as_deref(),
        Some(first[4].as_str()),
        "nothing after the stop was delivered"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_stopped_consumer_leaves_its_group_unless_it_still_has_entries_pending() {
    let t = TestStream::new().await;
    let mut done = t.config();
    done.consumer = "done-consumer".into();
    let handled = Count::default();
    let counter = handled.clone();
    let runner = t.spawn(done, move |_| {
        counter.bump();
        async { Ok(()) }
    });
    t.publish(0..2).await;
    eventually(Duration::from_secs(5), "both handled", || async {
        handled.get() == 2
    })
    .await;
    runner.stop().await;

    let mut failing = t.config();
    failing.consumer = "failing-consumer".into();
    // No retry before the stop: the failed entry stays pending under this consumer's name.
    failing.claim_idle = Duration::from_secs(60);
    failing.handler_timeout = Duration::from_secs(50);
    let runner = t.spawn(failing, |_| async { crate::helpers::fail("not today") });
    t.publish(2..3).await;
    eventually(Duration::from_secs(5), "the entry is pending", || async {
        t.pending().await == 1
    })
    .await;
    runner.stop().await;

    let consumers: Vec<std::collections::HashMap<String, fred::types::Value>> = t
        .redis
        .pool()
        .xinfo_consumers(t.stream.as_str(), t.group.as_str())
        .await
        .expect("XINFO CONSUMERS");
    let names: Vec<String> = consumers
        .iter()
        .filter_map(|c| c.get("name")?.as_string())
        .collect();
    assert_eq!(
        names,
        vec!["failing-consumer".to_owned()],
        "the idle consumer left; the one holding an entry stayed so it can be claimed"
    );
    assert_eq!(t.pending().await, 1, "the pending entry is still there");
    t.cleanup().await;
}
