//! Pending entries whose data was deleted (`XDEL`, `MAXLEN` trimming) before anyone handled them:
//! every path acknowledges and counts them, and none dead-letters them (there is nothing to copy).

use std::time::Duration;

use fred::prelude::StreamsInterface;

use crate::helpers::{Count, TestStream, eventually};

async fn delete(t: &TestStream, id: &str) {
    let deleted: u64 = t
        .redis
        .pool()
        .xdel(t.stream.as_str(), id)
        .await
        .expect("XDEL");
    assert_eq!(deleted, 1);
}

#[tokio::test]
async fn deleted_entries_pending_at_start_up_are_acknowledged_and_counted_not_dead_lettered() {
    let t = TestStream::new().await;
    let ids = t.publish(0..3).await;
    assert_eq!(t.take_as("stable-consumer").await, 3);
    delete(&t, &ids[1]).await;
    let mut config = t.config();
    config.consumer = "stable-consumer".into();
    config.claim_idle = Duration::from_secs(60);
    let handled = Count::default();
    let counter = handled.clone();

    let runner = t.spawn(config, move |_| {
        counter.bump();
        async { Ok(()) }
    });

    eventually(Duration::from_secs(10), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    assert_eq!(runner.metrics.deleted.get(), 1);
    runner.stop().await;
    assert_eq!(handled.get(), 2);
    assert_eq!(
        t.len(&t.dlq()).await,
        0,
        "a deleted entry is not dead-lettered"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn deleted_entries_met_by_a_claim_pass_are_counted() {
    let t = TestStream::new().await;
    let ids = t.publish(0..3).await;
    assert_eq!(t.take_as("dead-consumer").await, 3);
    delete(&t, &ids[0]).await;
    delete(&t, &ids[2]).await;
    let handled = Count::default();
    let counter = handled.clone();

    let runner = t.spawn(t.config(), move |_| {
        counter.bump();
        async { Ok(()) }
    });

    eventually(
        Duration::from_secs(10),
        "the claim pass met both",
        || async { runner.metrics.deleted.get() == 2 },
    )
    .await;
    eventually(Duration::from_secs(10), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    assert_eq!(handled.get(), 1);
    assert_eq!(
        runner.metrics.claimed.get(),
        1,
        "deleted entries are not claims"
    );
    runner.stop().await;
    assert_eq!(t.len(&t.dlq()).await, 0);
    t.cleanup().await;
}
