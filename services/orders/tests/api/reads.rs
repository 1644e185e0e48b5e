//! `GET /api/orders/{orderId}` and `GET /api/orders`: the caller's orders only, newest first.

use orders::{Order, OrderPage};

use crate::helpers::{TestShop, assert_error, body, fixture};

#[tokio::test]
async fn an_order_is_visible_to_its_owner_only() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let order = shop.orders.place("u-1", &[("p-1", 1)]).await;
    let path = format!("/api/orders/{}", order.order_id);

    let own = shop.orders.get_as("u-1", &path).await;
    let other = shop.orders.get_as("u-2", &path).await;
    let unknown = shop.orders.get_as("u-1", "/api/orders/01UNKNOWN").await;
    let malformed = shop.orders.get_as("u-1", "/api/orders/not%20an%20id").await;

    assert_eq!(own.status(), 200);
    let own: Order = own.json().await.unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(own, order);
    assert_error(other, 404, "order_not_found").await;
    assert_error(unknown, 404, "order_not_found").await;
    assert_error(malformed, 404, "order_not_found").await;
}

#[tokio::test]
async fn the_list_pages_through_the_callers_orders_newest_first() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 50)]).await;
    let mut mine = Vec::new();
    for _ in 0..5 {
        mine.push(shop.orders.place("u-1", &[("p-1", 1)]).await.order_id);
    }
    shop.orders.place("u-2", &[("p-1", 1)]).await;
    mine.reverse();

    let first = page(&shop, "page=1&pageSize=2").await;
    let third = page(&shop, "page=3&pageSize=2").await;
    let beyond = page(&shop, "page=4&pageSize=2").await;
    let default = page(&shop, "").await;

    let ids = |page: &OrderPage| {
        page.items
            .iter()
            .map(|o| o.order_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!((first.total, first.page, first.page_size), (5, 1, 2));
    assert_eq!(ids(&first), mine[0..2]);
    assert_eq!(ids(&third), mine[4..5]);
    assert!(beyond.items.is_empty());
    assert_eq!((default.page, default.page_size), (1, 20));
    assert_eq!(ids(&default), mine);
}

#[tokio::test]
async fn list_queries_out_of_range_are_422_and_unparseable_ones_400() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;

    for query in [
        "pageSize=101",
        "pageSize=0",
        "page=0",
        "page=-1",
        "page=1000001",
        "page=99999999999999999999",
    ] {
        let response = shop
            .orders
            .get_as("u-1", &format!("/api/orders?{query}"))
            .await;
        assert_error(response, 422, "invalid_query").await;
    }
    for query in ["page=abc", "pageSize=1.5", "page=-"] {
        let response = shop
            .orders
            .get_as("u-1", &format!("/api/orders?{query}"))
            .await;
        assert_error(response, 400, "invalid_query").await;
    }
    let anonymous = shop.orders.app.get("/api/orders").await;
    assert_error(anonymous, 401, "unauthenticated").await;
}

async fn page(shop: &TestShop, query: &str) -> OrderPage {
    let response = shop
        .orders
        .get_as("u-1", &format!("/api/orders?{query}"))
        .await;
    assert_eq!(response.status(), 200, "GET /api/orders?{query}");
    let page: serde_json::Value = body(response).await;
    serde_json::from_value(page).unwrap_or_else(|error| panic!("an OrderPage: {error}"))
}
