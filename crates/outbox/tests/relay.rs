//! The relay against the real test servers: entries are published once, in order, survive a
//! crashed claimer, a crashed writer and a failed publish, and two relays racing never publish an
//! entry twice.

use std::time::Duration;

use bson::{Document, doc};
use fred::prelude::{KeysInterface, StreamsInterface};
use mongodb::Collection;
use shop_outbox::{Outbox, OutboxConfig, OutboxEntry, Pass};
use shop_streams::{Fields, Publisher, Redis, RedisSettings};
use tokio_util::sync::CancellationToken;

/// A collection and a stream of its own, plus the connections to look at both.
struct Harness {
    redis: Redis,
    collection: Collection<Document>,
    stream: String,
}

impl Harness {
    async fn new() -> Self {
        let redis = Redis::connect(RedisSettings::new(shop_testkit::redis_url()))
            .await
            .expect("the test Redis is reachable");
        Self {
            redis,
            collection: shop_testkit::mongo_database("outbox")
                .await
                .collection("things"),
            stream: shop_testkit::unique_name("outbox_stream"),
        }
    }

    fn outbox(&self, config: OutboxConfig) -> Outbox {
        Outbox::new(
            self.collection.clone(),
            Publisher::new(self.redis.clone(), 100_000),
            config,
        )
    }

    /// Inserts `n` documents, each with its event in the same insert, without queueing them: what
    /// a writer that died right after its insert leaves.
    async fn insert(&self, n: usize) -> Vec<String> {
        let ids: Vec<String> = (0..n).map(|i| format!("thing-{i:04}")).collect();
        let documents: Vec<Document> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let mut fields = Fields::new();
                fields.push("type", "Thing");
                fields.push("n", i.to_string());
                let entry = OutboxEntry::new(&self.stream, fields);
                doc! { "_id": id, "outbox": bson::to_bson(&entry).expect("an entry serializes") }
            })
            .collect();
        self.collection
            .insert_many(documents)
            .await
            .expect("inserting test documents");
        ids
    }

    /// Writes `n` documents the way a service does: each with its event in one insert, then queued.
    async fn write(&self, outbox: &Outbox, n: usize) {
        for id in self.insert(n).await {
            outbox.written(id).await;
        }
    }

    fn queue(&self) -> Collection<Document> {
        let db = self
            .collection
            .client()
            .database(&self.collection.namespace().db);
        db.collection("things_outbox_queue")
    }

    /// The `n` field of every entry in the stream, in stream order.
    async fn published(&self) -> Vec<String> {
        let entries: Vec<(String, Vec<(String, String)>)> = self
            .redis
            .pool()
            .xrange(&self.stream, "-", "+", None)
            .await
            .expect("XRANGE");
        entries
            .into_iter()
            .filter_map(|(_, fields)| fields.into_iter().find(|(k, _)| k == "n").map(|(_, v)| v))
            .collect()
    }

    async fn pending(&self) -> u64 {
        self.collection
            .count_documents(doc! { "outbox.pending": true })
            .await
            .expect("counting")
    }
}

fn fast() -> OutboxConfig {
    OutboxConfig {
        batch_size: 50,
        lease: Duration::from_millis(300),
        poll_interval: Duration::from_millis(50),
        retry_after: Duration::from_millis(100),
        sweep_interval: Duration::from_secs(60),
    }
}

fn numbers(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| i.to_string()).collect()
}

#[tokio::test]
async fn pending_entries_are_published_once_in_write_order_and_marked_sent() {
    let h = Harness::new().await;
    let outbox = h.outbox(fast());
    outbox.ensure_indexes().await.expect("indexes");
    h.write(&outbox, 5).await;

    let first = outbox.relay_once().await.expect("a pass");
    let second = outbox.relay_once().await.expect("a pass");

    assert_eq!(
        first,
        Pass {
            published: 5,
            failed: 0
        }
    );
    assert_eq!(second, Pass::default());
    assert_eq!(h.published().await, numbers(0..5));
    assert_eq!(outbox.backlog().await.expect("backlog"), 0);
    let marked = h
        .collection
        .count_documents(
            doc! { "outbox.pending": false, "outbox.publishedAt": { "$exists": true } },
        )
        .await
        .expect("counting");
    assert_eq!(marked, 5);
}

#[tokio::test]
async fn two_relays_racing_over_the_same_entries_publish_each_exactly_once() {
    let h = Harness::new().await;
    // A lease longer than the test: a takeover after expiry is the other test's subject.
    let config = OutboxConfig {
        lease: Duration::from_secs(30),
        ..fast()
    };
    let (a, b) = (h.outbox(config.clone()), h.outbox(config));
    h.write(&a, 300).await;

    let drain = |outbox: Outbox| async move {
        let mut published = 0;
        for _ in 0..100 {
            let pass = outbox.relay_once().await.expect("a pass");
            published += pass.published;
            if pass == Pass::default() && outbox.backlog().await.expect("backlog") == 0 {
                break;
            }
        }
        published
    };
    let (by_a, by_b) = tokio::join!(drain(a), drain(b));

    let mut published = h.published().await;
    assert_eq!(by_a + by_b, 300, "a: {by_a}, b: {by_b}");
    published.sort_by_key(|n| n.parse::<usize>().unwrap_or(usize::MAX));
    assert_eq!(published, numbers(0..300));
    assert_eq!(h.pending().await, 0);
}

#[tokio::test]
async fn an_entry_held_by_a_crashed_relay_is_published_once_its_lease_expires() {
    let h = Harness::new().await;
    let survivor = h.outbox(fast());
    h.write(&survivor, 1).await;
    // What a relay that claimed attempt 0 and died leaves behind.
    let db = h.collection.client().database(&h.collection.namespace().db);
    db.collection::<Document>("things_outbox_claims")
        .insert_one(doc! { "_id": "thing-0000#0" })
        .await
        .expect("a claim");
    let lease_end = bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() + 300);
    h.queue()
        .update_one(
            doc! { "_id": "thing-0000" },
            doc! { "$set": { "at": lease_end, "attempts": 1 } },
        )
        .await
        .expect("leasing");

    let during_lease = survivor.relay_once().await.expect("a pass");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after_lease = survivor.relay_once().await.expect("a pass");

    assert_eq!(during_lease, Pass::default());
    assert_eq!(
        after_lease,
        Pass {
            published: 1,
            failed: 0
        }
    );
    assert_eq!(h.published().await, numbers(0..1));
}

#[tokio::test]
async fn a_failed_publish_stays_pending_and_is_retried() {
    let h = Harness::new().await;
    let outbox = h.outbox(fast());
    h.write(&outbox, 1).await;
    // A plain key where the stream should be: XADD fails with WRONGTYPE, a real Redis error.
    let () = h
        .redis
        .pool()
        .set(&h.stream, "not a stream", None, None, false)
        .await
        .expect("SET");

    let failed = outbox.relay_once().await.expect("a pass");
    let pending_after_failure = h.pending().await;
    let () = h.redis.pool().del(&h.stream).await.expect("DEL");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let retried = outbox.relay_once().await.expect("a pass");

    assert_eq!(
        failed,
        Pass {
            published: 0,
            failed: 1
        }
    );
    assert_eq!(pending_after_failure, 1);
    assert_eq!(
        retried,
        Pass {
            published: 1,
            failed: 0
        }
    );
    assert_eq!(h.published().await, numbers(0..1));
}

#[tokio::test]
async fn the_running_relay_publishes_what_is_written_at_once_and_stops_on_shutdown() {
    let h = Harness::new().await;
    // A poll interval far beyond the test: only the notification can explain a quick publish.
    let outbox = h.outbox(OutboxConfig {
        poll_interval: Duration::from_secs(60),
        ..fast()
    });
    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(outbox.clone().run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(100)).await; // the first (empty) pass is done

    h.write(&outbox, 3).await;
    let mut published = Vec::new();
    for _ in 0..50 {
        published = h.published().await;
        if published.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(5), relay).await;

    assert_eq!(published, numbers(0..3));
    assert!(
        matches!(stopped, Ok(Ok(()))),
        "the relay did not stop: {stopped:?}"
    );
}

#[tokio::test]
async fn an_entry_its_writer_never_queued_is_found_by_the_sweep_and_published_once() {
    let h = Harness::new().await;
    let outbox = h.outbox(fast());
    h.insert(2).await;

    let before_sweep = outbox.relay_once().await.expect("a pass");
    let swept = outbox.sweep().await.expect("a sweep");
    let after_sweep = outbox.relay_once().await.expect("a pass");
    let swept_again = outbox.sweep().await.expect("a sweep");

    assert_eq!(
        before_sweep,
        Pass::default(),
        "unqueued entries are not searched for"
    );
    assert_eq!(swept, 2);
    assert_eq!(
        after_sweep,
        Pass {
            published: 2,
            failed: 0
        }
    );
    assert_eq!(swept_again, 0, "published entries are not queued again");
    assert_eq!(h.published().await, numbers(0..2));
    assert_eq!(outbox.backlog().await.expect("backlog"), 0);
}

#[tokio::test]
async fn a_published_entry_left_queued_by_a_crashed_relay_is_dropped_not_republished() {
    let h = Harness::new().await;
    let outbox = h.outbox(fast());
    h.write(&outbox, 1).await;
    // What a relay that published and marked the entry sent, then died, leaves: a stale marker.
    h.collection
        .update_one(
            doc! { "_id": "thing-0000" },
            doc! { "$set": { "outbox.pending": false } },
        )
        .await
        .expect("marking sent");

    let pass = outbox.relay_once().await.expect("a pass");

    assert_eq!(pass, Pass::default());
    assert_eq!(h.published().await, Vec::<String>::new());
    assert_eq!(outbox.backlog().await.expect("backlog"), 0);
}

#[tokio::test]
async fn a_relay_that_died_between_its_claim_and_its_marker_update_delays_the_entry_by_one_lease() {
    let h = Harness::new().await;
    let survivor = h.outbox(fast());
    h.write(&survivor, 2).await;
    let db = h.collection.client().database(&h.collection.namespace().db);
    let claims = db.collection::<Document>("things_outbox_claims");
    // thing-0000: claimed (attempt 0) longer than a lease ago, and its marker never moved on.
    // thing-0001: claimed just now by a relay that is still at work.
    let long_ago = bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 1_000);
    claims
        .insert_one(doc! { "_id": "thing-0000#0", "at": long_ago })
        .await
        .expect("a stale claim");
    claims
        .insert_one(doc! { "_id": "thing-0001#0", "at": bson::DateTime::now() })
        .await
        .expect("a fresh claim");

    let first = survivor.relay_once().await.expect("a pass");
    let second = survivor.relay_once().await.expect("a pass");

    // The first pass loses both claims and takes over the stale one; the second publishes it.
    assert_eq!(first, Pass::default());
    assert_eq!(
        second,
        Pass {
            published: 1,
            failed: 0
        }
    );
    assert_eq!(h.published().await, numbers(0..1));
    assert_eq!(h.pending().await, 1, "the entry under a live claim waits");
}

#[tokio::test]
async fn an_entry_that_does_not_decode_leaves_the_queue_and_holds_up_nothing() {
    let h = Harness::new().await;
    let outbox = h.outbox(fast());
    // Oldest first: the broken entry is at the head of the queue.
    h.collection
        .insert_one(doc! { "_id": "broken", "outbox": { "stream": 42 } })
        .await
        .expect("a broken document");
    outbox.written("broken").await;
    h.write(&outbox, 3).await;

    let pass = outbox.relay_once().await.expect("a pass");
    let again = outbox.relay_once().await.expect("a pass");

    assert_eq!(
        pass,
        Pass {
            published: 3,
            failed: 0
        }
    );
    assert_eq!(again, Pass::default());
    assert_eq!(h.published().await, numbers(0..3));
    let queued = h
        .queue()
        .count_documents(doc! { "_id": "broken" })
        .await
        .expect("counting");
    assert_eq!(queued, 0, "moved out of the queue");
    let db = h.collection.client().database(&h.collection.namespace().db);
    let dead = db
        .collection::<Document>("things_outbox_dead")
        .find_one(doc! { "_id": "broken" })
        .await
        .expect("reading the dead collection")
        .expect("the broken entry is kept for an operator");
    assert!(
        dead.get_str("reason")
            .is_ok_and(|reason| !reason.is_empty())
    );
}
