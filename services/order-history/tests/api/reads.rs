//! `GET /api/order-history`: only the caller's orders, newest first, paged, with its query checked.

use chrono::Duration;
use serde_json::Value;
use shop_domain::{OrderId, UserId};

use crate::helpers::{TestHistory, now, order};

#[tokio::test]
async fn another_users_history_does_not_contain_the_order() {
    let h = TestHistory::spawn().await;
    let owner = UserId::generate();
    let stranger = UserId::generate();
    let theirs = order(&stranger, 100, now());
    h.publish_order(&order(&owner, 100, now())).await;
    h.publish_order(&theirs).await;
    h.processed(2, 0).await;

    let page = h.page(&owner, "").await;

    assert_eq!(page.total, 1);
    assert!(
        page.items
            .iter()
            .all(|item| item.order_id != theirs.order_id),
        "{page:?}"
    );
    assert_eq!(
        h.page(&stranger, "").await.items[0].order_id,
        theirs.order_id
    );
    h.stop().await;
}

#[tokio::test]
async fn history_without_a_valid_user_is_401_unauthenticated() {
    let h = TestHistory::spawn().await;

    let missing = h.history(None, "").await;
    let malformed = h
        .app
        .client
        .get(format!("{}/api/order-history", h.app.address))
        .header("x-user-id", "not a user id")
        .send()
        .await
        .expect("the request is sent");

    for response in [missing, malformed] {
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    h.stop().await;
}

#[tokio::test]
async fn pages_are_newest_first_and_carry_the_total() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();
    let start = now();
    // Published oldest last, so the order of the stream is not the order of the history; the last
    // two share a time, and then the larger id comes first.
    let mut orders: Vec<_> = (0..4)
        .map(|minutes| order(&user, 100, start - Duration::minutes(minutes)))
        .collect();
    let mut twin = order(&user, 100, start);
    twin.order_id = OrderId::parse(format!("{}z", orders[0].order_id)).expect("a valid id");
    orders.push(twin);
    for placed in &orders {
        h.publish_order(placed).await;
    }
    h.processed(5, 0).await;

    let first = h.page(&user, "?page=1&pageSize=2").await;
    let second = h.page(&user, "?page=2&pageSize=2").await;
    let third = h.page(&user, "?page=3&pageSize=2").await;
    let beyond = h.page(&user, "?page=4&pageSize=2").await;

    let ids = |page: &order_history::HistoryPage| -> Vec<OrderId> {
        page.items
            .iter()
            .map(|item| item.order_id.clone())
            .collect()
    };
    assert_eq!(
        ids(&first),
        [orders[4].order_id.clone(), orders[0].order_id.clone()]
    );
    assert_eq!(
        ids(&second),
        [orders[1].order_id.clone(), orders[2].order_id.clone()]
    );
    assert_eq!(ids(&third), [orders[3].order_id.clone()]);
    assert!(beyond.items.is_empty());
    for page in [&first, &second, &third, &beyond] {
        assert_eq!(page.total, 5);
        assert_eq!(page.page_size, 2);
    }
    assert_eq!((first.page, third.page), (1, 3));
    h.stop().await;
}

#[tokio::test]
async fn out_of_range_queries_are_422_and_unparseable_ones_400() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();

    for (query, status) in [
        ("?pageSize=0", 422),
        ("?pageSize=101", 422),
        ("?page=0", 422),
        ("?page=99999999999999999&pageSize=100", 422),
        ("?page=999999999999999999&pageSize=100", 422),
        ("?pageSize=abc", 400),
        ("?page=-1", 422),
        ("?page=1.5", 400),
    ] {
        let response = h.history(Some(&user), query).await;

        assert_eq!(response.status(), status, "{query}");
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(body["error"]["code"], "invalid_query", "{query}");
    }
    assert_eq!(h.page(&user, "?pageSize=100").await.total, 0);
    h.stop().await;
}
