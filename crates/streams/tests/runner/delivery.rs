//! Ordinary delivery: retries until success, and work shared by the consumers of a group.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{Count, TestStream, eventually, fail};

#[tokio::test]
async fn a_handler_failing_twice_then_succeeding_gets_the_entry_three_times_and_it_is_acked_once() {
    let t = TestStream::new().await;
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    let runner = t.spawn(t.config(), move |d| {
        let seen = seen.clone();
        async move {
            seen.lock().expect("lock").push(d.deliveries);
            if d.deliveries < 3 {
                fail("not yet")
            } else {
                Ok(())
            }
        }
    });

    t.publish([1]).await;

    eventually(
        Duration::from_secs(10),
        "the entry is processed",
        || async { runner.processed() == 1 },
    )
    .await;
    eventually(Duration::from_secs(5), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    runner.stop().await;
    assert_eq!(
        *attempts.lock().expect("lock"),
        vec![1, 2, 3],
        "one call per delivery, counted by Redis"
    );
    assert_eq!(t.len(&t.dlq()).await, 0, "a success is never dead-lettered");
    t.cleanup().await;
}

#[tokio::test]
async fn two_runners_in_one_group_split_the_work_and_no_entry_is_processed_by_both() {
    let t = TestStream::new().await;
    let by_number: Arc<Mutex<HashMap<u64, Vec<String>>>> = Arc::default();
    let total = Count::default();
    let runners: Vec<_> = (0..2)
        .map(|_| {
            let config = t.config();
            let me = config.consumer.clone();
            let (by_number, total) = (by_number.clone(), total.clone());
            t.spawn(config, move |d| {
                let (by_number, total, me) = (by_number.clone(), total.clone(), me.clone());
                async move {
                    // A little work per entry, so both consumers get a share.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    by_number
                        .lock()
                        .expect("lock")
                        .entry(d.event.0)
                        .or_default()
                        .push(me);
                    total.bump();
                    Ok(())
                }
            })
        })
        .collect();

    t.publish(0..400).await;

    eventually(Duration::from_secs(20), "all 400 processed", || async {
        total.get() >= 400
    })
    .await;
    eventually(Duration::from_secs(5), "all acked", || async {
        t.pending().await == 0
    })
    .await;
    for runner in runners {
        runner.stop().await;
    }
    let by_number = by_number.lock().expect("lock").clone();
    assert_eq!(by_number.len(), 400, "every entry was processed");
    assert!(
        by_number.values().all(|who| who.len() == 1),
        "no entry was processed twice"
    );
    let mut shares: HashMap<&String, usize> = HashMap::new();
    for who in by_number.values() {
        *shares.entry(&who[0]).or_default() += 1;
    }
    assert_eq!(
        shares.len(),
        2,
        "both consumers did some of the work: {shares:?}"
    );
    drop(shares);
    t.cleanup().await;
}

#[tokio::test]
async fn an_entry_marked_as_reannounced_is_decoded_as_usual_and_delivered_with_the_mark() {
    let t = TestStream::new().await;
    let marks = Arc::new(Mutex::new(HashMap::new()));
    let record = marks.clone();
    let runner = t.spawn(t.config(), move |d| {
        record
            .lock()
            .expect("lock")
            .insert(d.event.0, (d.reannounced, d.traceparent.clone()));
        async { Ok(()) }
    });

    t.publish([1]).await;
    t.publish_raw(&[
        ("type", "Numbered"),
        ("n", "2"),
        (shop_streams::REANNOUNCED_FIELD, "1"),
        (
            shop_streams::TRACEPARENT_FIELD,
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
    ])
    .await;
    t.publish_raw(&[
        ("type", "Numbered"),
        (shop_streams::REANNOUNCED_FIELD, ""),
        ("n", "3"),
    ])
    .await;

    eventually(Duration::from_secs(5), "all three processed", || async {
        runner.processed() == 3
    })
    .await;
    runner.stop().await;
    let marks = marks.lock().expect("lock").clone();
    assert!(!marks[&1].0, "an ordinary entry is not marked");
    assert!(marks[&2].0);
    assert!(marks[&2].1.is_some(), "the trace context still travels");
    assert!(marks[&3].0, "any value marks it");
    assert_eq!(t.len(&t.dlq()).await, 0);
    t.cleanup().await;
}
