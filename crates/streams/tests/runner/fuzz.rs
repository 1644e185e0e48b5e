//! Arbitrary bytes through a real Redis: whatever an entry holds, if it is not text it ends in the
//! dead-letter stream, and the good entries around it are processed.

use std::collections::HashSet;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::helpers::{TestStream, eventually};

/// Field lists of one to four pairs, at least one byte of which is not UTF-8.
fn unreadable_entry() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    vec((vec(any::<u8>(), 0..16), vec(any::<u8>(), 0..64)), 1..4).prop_map(|mut pairs| {
        // A lone continuation byte is never valid UTF-8.
        pairs[0].1.push(0x80);
        pairs
    })
}

#[test]
fn arbitrary_bytes_xadded_to_a_stream_end_in_the_dead_letter_stream() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut cases = TestRunner::new(Config {
        cases: 4,
        // Each case runs a consumer against Redis: shrink a little, not for minutes.
        max_shrink_iters: 8,
        failure_persistence: None,
        ..Config::default()
    });
    let result = cases.run(&vec(unreadable_entry(), 1..6), |entries| {
        runtime.block_on(async {
            let t = TestStream::new().await;
            // Before anything is read, so waiting on the group's pending count below can start at once.
            t.create_group().await;
            t.publish([1]).await;
            let mut bad = HashSet::new();
            for pairs in &entries {
                let pairs: Vec<(&[u8], &[u8])> = pairs
                    .iter()
                    .map(|(name, value)| (name.as_slice(), value.as_slice()))
                    .collect();
                bad.insert(t.publish_bytes(&pairs).await);
            }
            t.publish([2]).await;

            let runner = t.spawn(t.config(), |_| async { Ok(()) });
            eventually(Duration::from_secs(10), "everything settled", || async {
                t.pending().await == 0 && t.len(&t.dlq()).await == bad.len() as u64
            })
            .await;
            let processed = runner.processed();
            runner.stop().await;
            let dead: HashSet<String> = t.dead_letter_ids().await.into_iter().collect();
            t.cleanup().await;
            prop_assert_eq!(processed, 2);
            prop_assert_eq!(dead, bad);
            Ok(())
        })
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
