//! The catalog is seeded on first start, idempotently, without ever touching existing stock.

use mongodb::bson::{Document, doc};

use crate::helpers::{fixture, new_id, spawn_app, spawn_app_with};

#[tokio::test]
async fn seeding_loads_the_300_product_catalog_with_opening_stock() {
    let app = spawn_app().await;

    let (page, _) = app.list_ok("pageSize=1").await;
    let (p1, _) = app.product("p-0001").await;

    assert_eq!(page["total"], 300);
    assert_eq!(p1["name"], "Flannel Check Shirt");
    assert_eq!(p1["price"], 3999);
    assert_eq!(p1["stockQty"], 249);
    let openings = app
        .db
        .collection::<Document>("stock_movements")
        .count_documents(doc! { "kind": "opening" })
        .await
        .unwrap_or_default();
    assert_eq!(openings, 300);
}

#[tokio::test]
async fn a_restart_on_the_same_database_neither_duplicates_products_nor_resets_changed_stock() {
    let first = spawn_app().await;
    let reserved = first.reserve(&new_id(), &[("p-0001", 3)]).await;
    assert_eq!(reserved.status(), 200);
    let config = first.config.clone();
    first.app.stop().await.unwrap_or_else(|e| panic!("{e}"));

    let second = spawn_app_with(config).await;

    let products = second
        .db
        .collection::<Document>("products")
        .count_documents(doc! {})
        .await
        .unwrap_or_default();
    assert_eq!(products, 300);
    assert_eq!(second.stock("p-0001").await, 246);
    let (p1, _) = second.product("p-0001").await;
    assert_eq!(p1["stockQty"], 246);
}

#[tokio::test]
async fn seed_products_inserts_only_missing_products_and_counts_them() {
    let app = spawn_app().await;

    let new = app.seed(&[fixture("p-0001", 5), fixture("p-x", 10)]).await;
    let again = app.seed(&[fixture("p-x", 99)]).await;

    assert_eq!((new, again), (1, 0));
    assert_eq!(app.stock("p-0001").await, 249);
    assert_eq!(app.stock("p-x").await, 10);
    let (px, _) = app.product("p-x").await;
    assert_eq!(
        (px["price"].clone(), px["stockQty"].clone()),
        (1999.into(), 10.into())
    );
}
