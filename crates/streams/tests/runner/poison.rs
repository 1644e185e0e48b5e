//! Entries that cannot be read at all (bytes that are not UTF-8, huge values), on each path that
//! meets them: a new batch, the start-up read of pending entries, and a claim pass. Each is
//! dead-lettered on its own; the good entries around it are processed.

use std::collections::HashSet;
use std::future::Ready;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shop_streams::{Delivery, HandlerError};

use crate::helpers::{Numbered, TestStream, eventually};

type Seen = Arc<Mutex<HashSet<u64>>>;

/// A handler recording in `seen` which numbers it saw.
fn recording(
    seen: &Seen,
) -> impl Fn(Delivery<Numbered>) -> Ready<Result<(), HandlerError>> + Send + Sync + 'static {
    let seen = seen.clone();
    move |d| {
        seen.lock().expect("lock").insert(d.event.0);
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn a_non_utf8_entry_read_in_one_batch_with_three_good_ones_is_dead_lettered_alone_and_the_good_ones_are_processed()
 {
    let t = TestStream::new().await;
    // The consumer is stopped while the entries arrive, so its first read returns all four.
    t.publish([1]).await;
    let poison = t
        .publish_bytes(&[(b"type", b"Numbered"), (b"n", &[0xff, 0xfe, 0x00])])
        .await;
    t.publish([2, 3]).await;
    let seen = Seen::default();

    let runner = t.spawn(t.config(), recording(&seen));

    eventually(
        Duration::from_secs(10),
        "the good entries are processed",
        || async { runner.processed() == 3 },
    )
    .await;
    eventually(Duration::from_secs(10), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    assert_eq!(runner.metrics.dead_lettered_undecodable.get(), 1);
    runner.stop().await;
    assert_eq!(*seen.lock().expect("lock"), HashSet::from([1, 2, 3]));
    let dead = t.dead_letters().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].get("originalId"), Some(poison.as_str()));
    assert_eq!(dead[0].get("type"), Some("Numbered"));
    assert_eq!(
        dead[0].get("n"),
        Some("base64://4A"),
        "the raw bytes are kept, as base64"
    );
    assert!(
        dead[0].get("error").is_some_and(|e| e.contains("UTF-8")),
        "{dead:?}"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn unreadable_entries_pending_at_start_up_are_dead_lettered_and_the_good_ones_processed() {
    let t = TestStream::new().await;
    t.publish([1]).await;
    let bad_name = t.publish_bytes(&[(&[0xc3, 0x28], b"x")]).await;
    t.publish([2]).await;
    let bad_value = t.publish_bytes(&[(b"type", &[0x80])]).await;
    t.publish([3]).await;
    // A consumer with a stable name read them all, then died.
    assert_eq!(t.take_as("stable-consumer").await, 5);
    let mut config = t.config();
    config.consumer = "stable-consumer".into();
    // No claiming in this test: whatever is handled comes from the start-up read.
    config.claim_idle = Duration::from_secs(60);
    let seen = Seen::default();

    let runner = t.spawn(config, recording(&seen));

    eventually(Duration::from_secs(10), "everything settled", || async {
        t.pending().await == 0
    })
    .await;
    runner.stop().await;
    assert_eq!(*seen.lock().expect("lock"), HashSet::from([1, 2, 3]));
    // Handled concurrently, so dead-lettered in either order.
    let dead = t.dead_letter_ids().await;
    assert_eq!(
        dead.iter().collect::<HashSet<_>>(),
        HashSet::from([&bad_name, &bad_value])
    );
    assert!(
        t.dead_letters()
            .await
            .iter()
            .all(|d| d.get("deliveries") == Some("2")),
        "the start-up read is the second delivery"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn unreadable_entries_claimed_from_a_dead_consumer_are_dead_lettered_and_the_claim_pass_goes_on()
 {
    let t = TestStream::new().await;
    let poison = t.publish_bytes(&[(b"n", &[0xff])]).await;
    t.publish([1, 2]).await;
    assert_eq!(t.take_as("dead-consumer").await, 3);
    let seen = Seen::default();

    let runner = t.spawn(t.config(), recording(&seen));

    eventually(Duration::from_secs(10), "everything settled", || async {
        t.pending().await == 0
    })
    .await;
    assert_eq!(runner.metrics.claimed.get(), 3);
    runner.stop().await;
    assert_eq!(*seen.lock().expect("lock"), HashSet::from([1, 2]));
    assert_eq!(t.dead_letter_ids().await, vec![poison]);
    t.cleanup().await;
}

#[tokio::test]
async fn one_megabyte_values_go_through_whether_they_decode_or_not() {
    let t = TestStream::new().await;
    let megabyte = 1 << 20;
    let not_utf8 = vec![0xffu8; megabyte];
    let not_a_number = "9".repeat(megabyte);
    let binary = t
        .publish_bytes(&[(b"type", b"Numbered"), (b"n", &not_utf8)])
        .await;
    let text = t
        .publish_raw(&[("type", "Numbered"), ("n", &not_a_number)])
        .await;
    t.publish([5]).await;
    let seen = Seen::default();

    let runner = t.spawn(t.config(), recording(&seen));

    eventually(
        Duration::from_secs(20),
        "the good entry is processed",
        || async { runner.processed() == 1 },
    )
    .await;
    eventually(Duration::from_secs(20), "everything settled", || async {
        t.pending().await == 0
    })
    .await;
    runner.stop().await;
    assert_eq!(*seen.lock().expect("lock"), HashSet::from([5]));
    let dead = t.dead_letters().await;
    let copy_of = |id: &str| {
        dead.iter()
            .find(|d| d.get("originalId") == Some(id))
            .unwrap_or_else(|| panic!("no dead letter for {id}"))
    };
    assert_eq!(dead.len(), 2);
    assert_eq!(
        copy_of(&binary).get("n").map(str::len),
        Some("base64:".len() + megabyte.div_ceil(3) * 4)
    );
    assert_eq!(copy_of(&text).get("n"), Some(not_a_number.as_str()));
    t.cleanup().await;
}
