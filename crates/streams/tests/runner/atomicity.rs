//! Moving an entry between a stream and its dead-letter stream never loses it: when the copy cannot
//! be written (here: a plain string sits at the key, so `XADD` fails with `WRONGTYPE`), the
//! original stays where it was.

use std::time::Duration;

use fred::prelude::KeysInterface;
use shop_streams::{Fields, replay_dead_letters};

use crate::helpers::{TestStream, eventually};

async fn make_a_string(t: &TestStream, key: &str) {
    let () = t
        .redis
        .pool()
        .set(key, "not a stream", None, None, false)
        .await
        .expect("SET");
}

async fn remove(t: &TestStream, key: &str) {
    let _: i64 = t.redis.pool().del(key).await.expect("DEL");
}

#[tokio::test]
async fn an_entry_whose_dead_letter_copy_cannot_be_written_stays_pending_and_the_runner_goes_on() {
    let t = TestStream::new().await;
    make_a_string(&t, &t.dlq()).await;
    let poison = t
        .publish_raw(&[("type", "Numbered"), ("n", "twelve")])
        .await;
    t.publish([1, 2]).await;

    let runner = t.spawn(t.config(), |_| async { Ok(()) });

    eventually(
        Duration::from_secs(10),
        "the good entries are processed",
        || async { runner.processed() == 2 },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "the copy failed, and failed again on the retry",
        || async { runner.metrics.dead_letter_failed.get() >= 2 },
    )
    .await;
    assert_eq!(
        t.pending().await,
        1,
        "the poison entry was not acknowledged"
    );
    assert_eq!(runner.metrics.dead_lettered.get(), 0);

    remove(&t, &t.dlq()).await;

    eventually(
        Duration::from_secs(10),
        "dead-lettered once the copy can be written",
        || async { t.len(&t.dlq()).await == 1 },
    )
    .await;
    eventually(Duration::from_secs(5), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    runner.stop().await;
    assert_eq!(t.dead_letter_ids().await, vec![poison]);
    t.cleanup().await;
}

#[tokio::test]
async fn a_replay_that_cannot_write_back_to_the_stream_keeps_its_dead_letters() {
    let t = TestStream::new().await;
    let mut letter = Fields::new();
    letter.push("type", "Numbered");
    letter.push("n", "1");
    letter.push("group", "testers");
    letter.push("originalId", "1-0");
    letter.push("deliveries", "3");
    letter.push("error", "downstream outage");
    t.publisher
        .publish_fields(&t.dlq(), letter)
        .await
        .expect("a dead letter");
    make_a_string(&t, &t.stream).await;

    let replayed = replay_dead_letters(&t.redis, &t.stream, 100_000).await;

    assert!(replayed.is_err(), "{replayed:?}");
    assert_eq!(t.len(&t.dlq()).await, 1, "the dead letter is still there");
    remove(&t, &t.stream).await;
    let replayed = replay_dead_letters(&t.redis, &t.stream, 100_000)
        .await
        .expect("replay");
    assert_eq!(replayed, 1);
    assert_eq!(t.len(&t.dlq()).await, 0);
    assert_eq!(t.len(&t.stream).await, 1);
    t.cleanup().await;
}
