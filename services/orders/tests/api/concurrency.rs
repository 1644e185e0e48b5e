//! Many buyers, little stock: orders never oversell.

use futures::future::join_all;

use crate::helpers::{TestShop, body, fixture, order_body};

#[tokio::test]
async fn fifty_concurrent_orders_for_ten_in_stock_place_exactly_ten() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let request = order_body(&[("p-1", 1)]);

    let responses = join_all((0..50).map(|i| {
        let (orders, request) = (&shop.orders, &request);
        async move {
            let response = orders
                .create_order(Some(&format!("u-{i}")), request, None)
                .await;
            let status = response.status().as_u16();
            (status, body(response).await)
        }
    }))
    .await;

    let created = responses
        .iter()
        .filter(|(status, _)| *status == 201)
        .count();
    let out_of_stock = responses
        .iter()
        .filter(|(status, body)| *status == 409 && body["error"]["code"] == "out_of_stock")
        .count();
    let others: Vec<_> = responses
        .iter()
        .filter(|(status, _)| *status != 201 && *status != 409)
        .collect();
    assert_eq!(
        (created, out_of_stock),
        (10, 40),
        "unexpected answers: {others:?}"
    );
    assert_eq!(shop.products.stock("p-1").await, 0);
    assert_eq!(shop.orders.count_orders().await, 10);
}
