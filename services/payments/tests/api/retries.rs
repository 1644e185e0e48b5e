//! A provider failure is not a decision: the entry stays pending, is retried, and is paid exactly
//! once when the provider answers; failed attempts write nothing.

use std::sync::Arc;
use std::time::Duration;

use crate::helpers::{Harness, eventually, metrics, order, test_config};
use crate::providers::ScriptedProvider;

#[tokio::test]
async fn a_charge_failing_twice_is_retried_and_paid_exactly_once() {
    // Retries 1 s apart, so the test can look at the third attempt while the provider holds it.
    let mut config = test_config();
    config.consumer.claim_idle = Duration::from_secs(1);
    config.consumer.handler_timeout = Duration::from_millis(900);
    let h = Harness::with_config(config).await;
    let provider = Arc::new(ScriptedProvider::new().failing_first(2).holding());
    let app = h.start_with(provider.clone()).await;
    let order = order(4200);

    h.publish(&order).await;
    eventually("the third attempt to reach the provider", || async {
        (provider.calls() == 3).then_some(())
    })
    .await;
    let pending = h.pending().await;
    let stored_before = h.payment_documents().await.len();
    provider.release();
    let (documents, entries) = h.settled(1).await;

    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].1, 3, "the entry is on its third delivery");
    assert_eq!(stored_before, 0, "failed attempts store nothing");
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].get_str("status"), Ok("paid"));
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(provider.calls(), 3);
    let failed = format!(
        "stream_failed_total{{stream=\"{}\",group=\"payments\"}} 2\n",
        h.config.streams.orders
    );
    let text = metrics(&app).await;
    assert!(text.contains(&failed), "{text}");
    assert!(h.dead_letters().await.is_empty());
    app.stop().await.expect("the app stops");
}
