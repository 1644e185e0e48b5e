//! `POST /internal/reservations` and `.../release`: all-or-nothing, idempotent, never oversold.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{assert_error, body, fixture, new_id, spawn_app_with_products};

#[tokio::test]
async fn a_reservation_takes_stock_and_returns_lines_priced_from_the_catalog() {
    let app = spawn_app_with_products(&[fixture("p-1", 10), fixture("p-2", 10)]).await;
    let id = new_id();

    let response = app.reserve(&id, &[("p-1", 2), ("p-2", 1)]).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        body(response).await,
        json!({ "reservationId": id, "lines": [
            { "productId": "p-1", "name": "Fixture p-1", "qty": 2, "productPrice": 1999 },
            { "productId": "p-2", "name": "Fixture p-2", "qty": 1, "productPrice": 1999 },
        ]})
    );
    assert_eq!((app.stock("p-1").await, app.stock("p-2").await), (8, 9));
}

#[tokio::test]
async fn fifty_concurrent_reservations_for_stock_of_10_sell_exactly_10() {
    let app = spawn_app_with_products(&[fixture("p-hot", 10)]).await;

    let responses = join_all((0..50).map(|_| {
        let app = &app;
        async move {
            let response = app.reserve(&new_id(), &[("p-hot", 1)]).await;
            let status = response.status().as_u16();
            (status, body(response).await)
        }
    }))
    .await;

    let ok = responses
        .iter()
        .filter(|(status, _)| *status == 200)
        .count();
    let sold_out = responses
        .iter()
        .filter(|(status, body)| *status == 409 && body["error"]["code"] == "out_of_stock")
        .count();
    assert_eq!((ok, sold_out), (10, 40), "{responses:?}");
    assert_eq!(app.stock("p-hot").await, 0);
}

#[tokio::test]
async fn a_line_out_of_stock_leaves_earlier_lines_untouched_and_spends_the_id() {
    let app = spawn_app_with_products(&[fixture("p-1", 10), fixture("p-2", 1)]).await;
    let id = new_id();

    let failed = app.reserve(&id, &[("p-1", 3), ("p-2", 2)]).await;
    let message = assert_error(failed, 409, "out_of_stock").await;
    let retried = app.reserve(&id, &[("p-1", 3), ("p-2", 2)]).await;

    assert!(message.contains("p-2"), "{message}");
    assert_eq!((app.stock("p-1").await, app.stock("p-2").await), (10, 1));
    assert_error(retried, 409, "reservation_released").await;
    assert_eq!(app.stock("p-1").await, 10);
}

#[tokio::test]
async fn the_same_reservation_twice_reserves_once() {
    let app = spawn_app_with_products(&[fixture("p-1", 10), fixture("p-2", 10)]).await;
    let id = new_id();

    let first = app.reserve(&id, &[("p-1", 2), ("p-2", 1)]).await;
    // The same lines in another order are the same reservation.
    let second = app.reserve(&id, &[("p-2", 1), ("p-1", 2)]).await;

    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    assert_eq!((app.stock("p-1").await, app.stock("p-2").await), (8, 9));
}

#[tokio::test]
async fn retrying_a_reservation_that_took_the_last_units_succeeds_without_taking_more() {
    let app = spawn_app_with_products(&[fixture("p-1", 3)]).await;
    let id = new_id();

    let first = app.reserve(&id, &[("p-1", 3)]).await;
    let retry = app.reserve(&id, &[("p-1", 3)]).await;

    assert_eq!(
        (first.status().as_u16(), retry.status().as_u16()),
        (200, 200)
    );
    assert_eq!(app.stock("p-1").await, 0);
}

#[tokio::test]
async fn the_same_id_with_different_lines_is_a_reservation_conflict() {
    let app = spawn_app_with_products(&[fixture("p-1", 10)]).await;
    let id = new_id();
    app.reserve(&id, &[("p-1", 2)]).await;

    let conflict = app.reserve(&id, &[("p-1", 3)]).await;

    assert_error(conflict, 409, "reservation_conflict").await;
    assert_eq!(app.stock("p-1").await, 8);
}

#[tokio::test]
async fn invalid_requests_are_422_and_unknown_products_404_without_moving_stock() {
    let app = spawn_app_with_products(&[fixture("p-1", 10)]).await;

    for lines in [
        vec![],
        vec![("p-1", 0)],
        vec![("p-1", 101)],
        vec![("p-1", 1), ("p-1", 2)],
        vec![("bad id", 1)],
    ] {
        let response = app.reserve(&new_id(), &lines).await;
        assert_error(response, 422, "invalid_reservation").await;
    }
    assert_error(
        app.reserve("bad/id", &[("p-1", 1)]).await,
        422,
        "invalid_reservation",
    )
    .await;
    let missing = app.reserve(&new_id(), &[("p-1", 1), ("p-404", 1)]).await;
    let message = assert_error(missing, 404, "product_not_found").await;

    assert!(message.contains("p-404"), "{message}");
    assert_eq!(app.stock("p-1").await, 10);
}

#[tokio::test]
async fn release_restores_stock_once_even_when_called_twice_and_concurrently() {
    let app = spawn_app_with_products(&[fixture("p-1", 10), fixture("p-2", 10)]).await;
    let (sequential, concurrent) = (new_id(), new_id());
    app.reserve(&sequential, &[("p-1", 2), ("p-2", 3)]).await;
    app.reserve(&concurrent, &[("p-1", 4)]).await;

    let first = app.release(&sequential).await;
    let second = app.release(&sequential).await;
    let (a, b) = tokio::join!(app.release(&concurrent), app.release(&concurrent));

    for response in [first, second, a, b] {
        assert_eq!(response.status(), 200);
        let body = body(response).await;
        assert_eq!(body["state"], "released", "{body}");
    }
    assert_eq!((app.stock("p-1").await, app.stock("p-2").await), (10, 10));
    let reuse = app.reserve(&sequential, &[("p-1", 2), ("p-2", 3)]).await;
    assert_error(reuse, 409, "reservation_released").await;
}

#[tokio::test]
async fn releasing_an_unknown_reservation_is_404_reservation_not_found() {
    let app = spawn_app_with_products(&[fixture("p-1", 10)]).await;

    assert_error(app.release(&new_id()).await, 404, "reservation_not_found").await;
}

#[tokio::test]
async fn a_release_racing_its_reservation_always_leaves_the_stock_restored() {
    let app = spawn_app_with_products(&[fixture("p-1", 100), fixture("p-2", 100)]).await;

    // Whichever runs first, the release's outcome wins: the reservation either never takes stock
    // or gives back every line it took, including lines reserved while the release was running.
    join_all((0..10).map(|_| {
        let app = &app;
        async move {
            let id = new_id();
            tokio::join!(
                app.reserve(&id, &[("p-1", 1), ("p-2", 2)]),
                app.release(&id)
            )
        }
    }))
    .await;

    assert_eq!((app.stock("p-1").await, app.stock("p-2").await), (100, 100));
}
