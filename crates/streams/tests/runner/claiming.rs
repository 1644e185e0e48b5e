//! No entry is claimed while its handler still runs: slow handlers at full concurrency, retries
//! competing with new entries for the slots, and two consumers claiming from each other.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use shop_streams::{ConsumerConfig, Delivery, HandlerError};

use crate::helpers::{Numbered, TestStream, eventually, fail};

#[derive(Default)]
struct Ledger {
    running: HashSet<u64>,
    overlaps: Vec<u64>,
    succeeded: HashMap<u64, usize>,
}

impl Ledger {
    fn assert_each_ran_once_and_never_twice_at_a_time(&self, entries: usize) {
        assert!(
            self.overlaps.is_empty(),
            "entries handled twice at the same time: {:?}",
            self.overlaps
        );
        assert_eq!(self.succeeded.len(), entries, "{:?}", self.succeeded);
        assert!(
            self.succeeded.values().all(|&times| times == 1),
            "each entry is processed once: {:?}",
            self.succeeded
        );
    }
}

/// Two slots; a handler may run 1 s from the read, an entry is claimed after 1.5 s idle.
fn slow_config(t: &TestStream) -> ConsumerConfig {
    let mut config = t.config();
    config.concurrency = 2;
    config.handler_timeout = Duration::from_millis(1_000);
    config.claim_idle = Duration::from_millis(1_500);
    config.max_deliveries = 10;
    config
}

/// A handler taking 0.9 s (most of its time), recording in `ledger` what runs when.
fn slow_handler(
    ledger: Arc<Mutex<Ledger>>,
) -> impl Fn(Delivery<Numbered>) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync + 'static
{
    move |d| {
        let ledger = ledger.clone();
        Box::pin(async move {
            let n = d.event.0;
            {
                let mut l = ledger.lock().expect("lock");
                if !l.running.insert(n) {
                    l.overlaps.push(n);
                }
            }
            tokio::time::sleep(Duration::from_millis(900)).await;
            let mut l = ledger.lock().expect("lock");
            l.running.remove(&n);
            *l.succeeded.entry(n).or_default() += 1;
            Ok(())
        })
    }
}

#[tokio::test]
async fn entries_read_while_every_slot_runs_a_claimed_entry_are_not_claimed_elsewhere_while_they_run()
 {
    let t = TestStream::new().await;
    // A dead consumer's two entries: the first consumer's claim pass fills both its slots.
    t.publish([100, 101]).await;
    assert_eq!(t.take_as("dead-consumer").await, 2);
    let ledger: Arc<Mutex<Ledger>> = Arc::default();
    let mut config = slow_config(&t);
    // A long blocking read, under way while the claim pass fills the slots.
    config.block = Duration::from_secs(5);
    let first = t.spawn(config, slow_handler(ledger.clone()));
    eventually(
        Duration::from_secs(10),
        "the dead consumer's entries are claimed",
        || async { first.metrics.claimed.get() == 2 },
    )
    .await;

    // New entries now, and a second consumer whose claim loop takes whatever idles too long.
    t.publish([1, 2]).await;
    let second = t.spawn(slow_config(&t), slow_handler(ledger.clone()));

    eventually(Duration::from_secs(20), "all four succeeded", || async {
        ledger.lock().expect("lock").succeeded.len() == 4
    })
    .await;
    eventually(Duration::from_secs(5), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    first.stop().await;
    second.stop().await;
    ledger
        .lock()
        .expect("lock")
        .assert_each_ran_once_and_never_twice_at_a_time(4);
    t.cleanup().await;
}

#[tokio::test]
async fn slow_handlers_at_full_concurrency_are_never_claimed_while_they_run() {
    let t = TestStream::new().await;
    let ledger: Arc<Mutex<Ledger>> = Arc::default();
    let runners: Vec<_> = (0..2)
        .map(|_| {
            let ledger = ledger.clone();
            t.spawn(slow_config(&t), move |d| {
                let ledger = ledger.clone();
                async move {
                    let n = d.event.0;
                    {
                        let mut l = ledger.lock().expect("lock");
                        if !l.running.insert(n) {
                            l.overlaps.push(n);
                        }
                    }
                    // Odd entries fail their first delivery at once, so retries (claims) compete
                    // with new entries for the slots; everything else takes most of its time.
                    let result = if n % 2 == 1 && d.deliveries == 1 {
                        fail("not yet")
                    } else {
                        tokio::time::sleep(Duration::from_millis(800)).await;
                        Ok(())
                    };
                    let mut l = ledger.lock().expect("lock");
                    l.running.remove(&n);
                    if result.is_ok() {
                        *l.succeeded.entry(n).or_default() += 1;
                    }
                    result
                }
            })
        })
        .collect();

    t.publish(0..10).await;

    eventually(Duration::from_secs(30), "all ten succeeded", || async {
        ledger.lock().expect("lock").succeeded.len() == 10
    })
    .await;
    eventually(Duration::from_secs(5), "nothing is pending", || async {
        t.pending().await == 0
    })
    .await;
    for runner in runners {
        runner.stop().await;
    }
    ledger
        .lock()
        .expect("lock")
        .assert_each_ran_once_and_never_twice_at_a_time(10);
    assert_eq!(t.len(&t.dlq()).await, 0);
    t.cleanup().await;
}
