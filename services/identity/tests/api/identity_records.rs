//! Digital identity: every login and checkout becomes one scored record, `/api/me` shows the
//! latest score, and a redelivered event changes nothing.

use bson::Document;
use shop_domain::events::{OrderCreated, OrderLine};
use shop_domain::{Money, OrderId, ProductId, Quantity, UserId};

use crate::helpers::{LAPTOP, PHONE_ELSEWHERE, TestIdentity, email, eventually, json_body};

async fn score_shown(t: &TestIdentity, user_id: &str) -> f64 {
    let body = json_body(t.me(Some(user_id)).await).await;
    body["identityScore"]
        .as_f64()
        .unwrap_or_else(|| panic!("a score: {body}"))
}

fn score(record: &Document) -> f64 {
    record.get_f64("score").unwrap_or(-1.0)
}

fn order_by(user_id: &str, created_at: chrono::DateTime<chrono::Utc>) -> OrderCreated {
    let cents = Money::from_minor(2500).unwrap_or_else(|error| panic!("{error}"));
    OrderCreated {
        order_id: OrderId::generate(),
        user_id: UserId::parse(user_id).unwrap_or_else(|error| panic!("{error}")),
        order_amount: cents,
        products: vec![OrderLine {
            product_id: ProductId::parse("sku-1").unwrap_or_else(|error| panic!("{error}")),
            qty: Quantity::new(1).unwrap_or_else(|error| panic!("{error}")),
            product_price: cents,
        }],
        created_at,
    }
}

#[tokio::test]
async fn a_login_from_a_known_browser_and_address_scores_higher_than_one_from_new_ones() {
    let t = TestIdentity::spawn().await;
    let email = email();
    let user_id = t.registered(&email).await;

    let (_, first) = t.recorded_login(&email, LAPTOP).await;
    let (_, again) = t.recorded_login(&email, LAPTOP).await;
    let after_known = score_shown(&t, &user_id).await;
    let (_, elsewhere) = t.recorded_login(&email, PHONE_ELSEWHERE).await;
    let after_new = score_shown(&t, &user_id).await;

    assert_eq!(score(&first), 0.0, "a first event has nothing to match");
    assert_eq!(
        score(&again),
        0.84,
        "same browser, same address, one earlier record"
    );
    assert_eq!(
        score(&elsewhere),
        0.08,
        "only the history term: two earlier records"
    );
    assert_eq!(after_known, 0.84, "/api/me shows the latest record's score");
    assert_eq!(after_new, 0.08);
    assert!(after_known > after_new);
    assert_eq!(first.get_str("kind"), Ok("login"));
    assert_eq!(first.get_str("userId"), Ok(user_id.as_str()));
    assert_eq!(first.get_str("ip"), Ok(LAPTOP.ip));
    assert_eq!(
        first.get_str("fingerprint").map(str::to_owned),
        Ok(identity::score::fingerprint(LAPTOP.agent).unwrap_or_default())
    );
}

#[tokio::test]
async fn a_checkout_is_recorded_with_the_device_of_the_latest_login_and_scored() {
    let t = TestIdentity::spawn().await;
    let email = email();
    let user_id = t.registered(&email).await;
    let (_, login) = t.recorded_login(&email, LAPTOP).await;
    let order = order_by(&user_id, chrono::Utc::now());

    t.publish_order(&order).await;
    let checkout = t.record(&format!("checkout:{}", order.order_id)).await;

    assert_eq!(checkout.get_str("kind"), Ok("checkout"));
    assert_eq!(checkout.get_str("userId"), Ok(user_id.as_str()));
    assert_eq!(checkout.get_str("ip"), Ok(LAPTOP.ip));
    assert_eq!(
        checkout.get_str("fingerprint"),
        login.get_str("fingerprint")
    );
    assert_eq!(checkout.get_str("deviceFrom"), login.get_str("_id"));
    assert_eq!(
        score(&checkout),
        0.84,
        "the login's device, one earlier record"
    );
    assert_eq!(score_shown(&t, &user_id).await, 0.84);
    let metrics = t.metrics().await;
    assert!(
        metrics.contains("identity_records_total{kind=\"checkout\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_checkout_with_no_login_on_record_is_recorded_without_a_device_after_its_retries() {
    let t = TestIdentity::spawn().await;
    let user_id = t.registered(&email()).await;
    let order = order_by(&user_id, chrono::Utc::now());

    t.publish_order(&order).await;
    let checkout = t.record(&format!("checkout:{}", order.order_id)).await;

    assert_eq!(checkout.get("ip"), Some(&bson::Bson::Null));
    assert_eq!(checkout.get("fingerprint"), Some(&bson::Bson::Null));
    assert_eq!(checkout.get("deviceFrom"), None);
    assert_eq!(score(&checkout), 0.0);
    let metrics = t.metrics().await;
    let series = format!(
        "stream_failed_total{{stream=\"{}\",group=\"identity\"}} ",
        t.config.streams.orders
    );
    let failed: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_default();
    // At least every delivery but the last waited; on a starved machine the last one, which
    // records, may also overrun its deadline after writing (and is then counted as failed too).
    assert!(
        failed >= t.config.consumer.max_deliveries - 1,
        "it waited for a login first: {metrics}"
    );
}

#[tokio::test]
async fn a_redelivered_login_event_is_a_no_op() {
    let t = TestIdentity::spawn().await;
    let email = email();
    let user_id = t.registered(&email).await;
    let (_, _) = t.recorded_login(&email, LAPTOP).await;
    let (_, second) = t.recorded_login(&email, LAPTOP).await;
    let entries = t.identity_entries().await;
    let processed = |n: usize| {
        format!(
            "stream_processed_total{{stream=\"{}\",group=\"identity\"}} {n}\n",
            t.config.streams.identity
        )
    };

    // The second login's entry again, as a redelivery after a lost ack would bring it.
    t.publish(&t.config.streams.identity, entries[1].clone())
        .await;
    eventually("the duplicate to be processed", || async {
        t.metrics().await.contains(&processed(3)).then_some(())
    })
    .await;

    assert_eq!(t.records_of(&user_id).await, 2);
    let id = second.get_str("_id").unwrap_or_default();
    assert_eq!(t.record(id).await, second, "the record is untouched");
    assert_eq!(score_shown(&t, &user_id).await, score(&second));
    let metrics = t.metrics().await;
    assert!(
        metrics.contains("identity_records_total{kind=\"login\"} 2\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_malformed_login_entry_is_dead_lettered_and_the_next_is_recorded() {
    let t = TestIdentity::spawn().await;
    let email = email();
    t.registered(&email).await;
    let mut malformed = shop_streams::Fields::new();
    malformed.push("type", "UserLoggedIn");
    malformed.push("userId", "has spaces");

    t.publish(&t.config.streams.identity, malformed).await;
    let (_, record) = t.recorded_login(&email, LAPTOP).await;

    assert_eq!(score(&record), 0.0);
    let dead_letters = shop_streams::dead_letter_stream(&t.config.streams.identity);
    eventually("the malformed entry to be dead-lettered", || async {
        let entries: Vec<(String, Vec<(String, String)>)> =
            fred::prelude::StreamsInterface::xrange(t.redis.pool(), &dead_letters, "-", "+", None)
                .await
                .unwrap_or_default();
        (entries.len() == 1).then_some(())
    })
    .await;
}
