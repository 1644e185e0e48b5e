//! The store's write primitives against the test server (FerretDB here, MongoDB in production):
//! facts are unique inserts, and a batch with facts already there still inserts the others.

use order_history::facts::OrderFact;
use order_history::store::{Inserted, Store};
use shop_domain::UserId;

use crate::helpers::{now, order};

async fn store() -> Store {
    let db = shop_testkit::app::mongo_settings("order_history_store")
        .connect("order-history-tests")
        .await
        .expect("configuring MongoDB");
    Store::new(&db)
}

#[tokio::test]
async fn a_fact_inserted_twice_is_stored_once() {
    let store = store().await;
    let fact = OrderFact::from(&order(&UserId::generate(), 100, now()));

    let first = store.insert(0, &fact).await.expect("the first insert");
    let second = store.insert(0, &fact).await.expect("the second insert");

    assert_eq!((first, second), (Inserted::New, Inserted::Duplicate));
}

#[tokio::test]
async fn a_batch_skips_facts_already_there_and_inserts_the_rest() {
    let store = store().await;
    let user = UserId::generate();
    let facts: Vec<OrderFact> = (0..5)
        .map(|_| OrderFact::from(&order(&user, 100, now())))
        .collect();
    store.insert(3, &facts[1]).await.expect("one fact first");
    store
        .insert(3, &facts[3])
        .await
        .expect("another fact first");

    store.insert_all(3, &facts).await.expect("the batch");

    let (stored, total) = store
        .user_orders(3, &user, 0, 10)
        .await
        .expect("reading the facts");
    assert_eq!(total, 5);
    let mut ids: Vec<_> = stored.into_iter().map(|fact| fact.order_id).collect();
    let mut expected: Vec<_> = facts.into_iter().map(|fact| fact.order_id).collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
}
