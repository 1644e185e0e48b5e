//! The publisher's cap, and dead-letter replay.

use std::time::Duration;

use shop_streams::{Publisher, replay_dead_letters};

use crate::helpers::{Count, Numbered, TestStream, eventually, fail};

#[tokio::test]
async fn publishing_keeps_the_stream_near_maxlen() {
    let t = TestStream::new().await;
    let capped = Publisher::new(t.redis.clone(), 1_000);
    let events: Vec<Numbered> = (0..10_000).map(Numbered).collect();

    let ids = capped
        .publish_batch(&t.stream, &events)
        .await
        .expect("publish");
    for n in 0..300 {
        capped
            .publish(&t.stream, &Numbered(n))
            .await
            .expect("publish");
    }

    assert_eq!(ids.len(), 10_000, "one id per event, in order");
    assert!(ids.windows(2).all(|w| w[0] != w[1]));
    let len = t.len(&t.stream).await;
    // `~` trims whole radix-tree nodes (100 entries by default), so the length stays within a node.
    assert!(
        (1_000..1_100).contains(&len),
        "stream length {len} is near the cap of 1000"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn replayed_dead_letters_are_delivered_again_and_processed() {
    let t = TestStream::new().await;
    let healed = Count::default();
    let flag = healed.clone();
    let mut config = t.config();
    config.max_deliveries = 1;
    // Fails until "the outage is over", then succeeds.
    let runner = t.spawn(config, move |_| {
        let healed = flag.clone();
        async move {
            if healed.get() == 0 {
                fail("downstream outage")
            } else {
                Ok(())
            }
        }
    });
    t.publish([42]).await;
    eventually(Duration::from_secs(5), "dead-lettered", || async {
        t.len(&t.dlq()).await == 1
    })
    .await;

    healed.bump();
    let replayed = replay_dead_letters(&t.redis, &t.stream, 100_000)
        .await
        .expect("replay");

    assert_eq!(replayed, 1);
    assert_eq!(
        t.len(&t.dlq()).await,
        0,
        "the dead-letter stream is emptied"
    );
    eventually(
        Duration::from_secs(5),
        "the replayed entry is processed",
        || async { runner.processed() == 1 },
    )
    .await;
    runner.stop().await;
    t.cleanup().await;
}

#[tokio::test]
async fn copies_dead_lettered_by_several_groups_are_replayed_once() {
    let t = TestStream::new().await;
    let publisher = Publisher::new(t.redis.clone(), 100_000);
    // What three groups leave after each dead-lettering the same poison entry, plus another one.
    for (group, original) in [("a", "1-0"), ("b", "1-0"), ("c", "1-0"), ("a", "2-0")] {
        let mut fields = shop_streams::Fields::new();
        fields.push("n", original);
        fields.push("group", group);
        fields.push("originalId", original);
        fields.push("deliveries", "1");
        fields.push("error", "undecodable");
        publisher
            .publish_fields(&t.dlq(), fields)
            .await
            .expect("a dead letter");
    }

    let replayed = replay_dead_letters(&t.redis, &t.stream, 100_000)
        .await
        .expect("replay");

    assert_eq!(replayed, 2, "one re-publication per original entry");
    assert_eq!(t.len(&t.stream).await, 2);
    assert_eq!(t.len(&t.dlq()).await, 0, "every copy is removed");
    t.cleanup().await;
}
