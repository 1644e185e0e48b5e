//! `/metrics` counts payments by outcome and the consumer's and relay's work.

use crate::helpers::{Harness, MAX_AMOUNT, eventually, metrics, order};

#[tokio::test]
async fn metrics_show_payments_by_outcome_and_the_stream_counters() {
    let h = Harness::new().await;
    let app = h.start().await;
    h.publish(&order(500)).await;
    h.publish(&order(MAX_AMOUNT + 500)).await;
    h.settled(2).await;
    let stream = &h.config.streams.orders;
    let expected = [
        "payments_total{outcome=\"paid\"} 1\n".to_owned(),
        "payments_total{outcome=\"failed\"} 1\n".to_owned(),
        format!("stream_processed_total{{stream=\"{stream}\",group=\"payments\"}} 2\n"),
        format!("stream_dead_lettered_total{{stream=\"{stream}\",group=\"payments\"}} 0\n"),
        "outbox_published_total{collection=\"payments\"} 2\n".to_owned(),
    ];

    let text = eventually("every counter to be up to date", || async {
        let text = metrics(&app).await;
        expected
            .iter()
            .all(|series| text.contains(series.as_str()))
            .then_some(text)
    })
    .await;

    assert!(text.contains("# TYPE payments counter"), "{text}");
    assert!(text.contains("outbox_backlog"), "{text}");
    app.stop().await.expect("the app stops");
}
