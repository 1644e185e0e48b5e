//! Cache-aside in Redis: `X-Cache` says where a response came from, and stock movements invalidate
//! exactly the products they change.

use crate::helpers::{fixture, new_id, spawn_app_with_products};

#[tokio::test]
async fn a_second_get_of_a_product_is_a_cache_hit() {
    let app = spawn_app_with_products(&[fixture("p-1", 7)]).await;

    let (first, first_cache) = app.product("p-1").await;
    let (second, second_cache) = app.product("p-1").await;

    assert_eq!(
        (first_cache.as_str(), second_cache.as_str()),
        ("MISS", "HIT")
    );
    assert_eq!(first, second);
}

#[tokio::test]
async fn a_reservation_makes_the_next_get_a_miss_showing_the_new_stock() {
    let app = spawn_app_with_products(&[fixture("p-1", 7)]).await;
    app.product("p-1").await;
    app.product("p-1").await;

    let reserved = app.reserve(&new_id(), &[("p-1", 2)]).await;
    let (after, cache) = app.product("p-1").await;

    assert_eq!(reserved.status(), 200);
    assert_eq!(cache, "MISS");
    assert_eq!(after["stockQty"], 5);
    assert_eq!(app.product("p-1").await.1, "HIT");
}

#[tokio::test]
async fn a_repeated_list_is_a_hit_and_stock_changes_show_without_invalidating_it() {
    let app = spawn_app_with_products(&[fixture("p-1", 7), fixture("p-2", 3)]).await;

    let (first, first_cache) = app.list_ok("pageSize=10").await;
    let (second, second_cache) = app.list_ok("pageSize=10").await;
    app.reserve(&new_id(), &[("p-2", 1)]).await;
    let (after, after_cache) = app.list_ok("pageSize=10").await;
    let (again, again_cache) = app.list_ok("pageSize=10").await;

    assert_eq!(
        (first_cache.as_str(), second_cache.as_str()),
        ("MISS", "HIT")
    );
    assert_eq!(first, second);
    // The page entry is still cached; only p-2 is read again, so this is a MISS with new stock.
    assert_eq!(after_cache, "MISS");
    assert_eq!(after["items"][1]["stockQty"], 2);
    assert_eq!((again_cache.as_str(), again), ("HIT", after));
}

#[tokio::test]
async fn seeding_new_products_shows_them_in_listings_cached_before() {
    let app = spawn_app_with_products(&[fixture("p-1", 1)]).await;
    let (before, _) = app.list_ok("").await;

    // A start that seeds new products (here, the catalog) bumps the listing version.
    let restarted = crate::helpers::spawn_app_with(products::Config {
        seed_catalog: true,
        ..app.config.clone()
    })
    .await;
    let (after, cache) = restarted.list_ok("").await;

    assert_eq!(before["total"], 1);
    assert_eq!(after["total"], 301);
    assert_eq!(cache, "MISS");
}

#[tokio::test]
async fn cache_hits_and_misses_are_counted_in_metrics() {
    let app = spawn_app_with_products(&[fixture("p-1", 1)]).await;
    app.product("p-1").await;
    app.product("p-1").await;
    app.list_ok("").await;

    let metrics = app
        .app
        .get("/metrics")
        .await
        .text()
        .await
        .unwrap_or_default();

    for line in [
        r#"cache_hits_total{kind="product"} 1"#,
        r#"cache_misses_total{kind="product"} 1"#,
        r#"cache_misses_total{kind="list"} 1"#,
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing:\n{metrics}"
        );
    }
}
