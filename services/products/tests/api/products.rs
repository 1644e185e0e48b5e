//! `GET /api/products` and `GET /api/products/{id}`: paging, search, filters, validation.

use std::collections::HashSet;

use serde_json::Value;
use shop_domain::Money;

use crate::helpers::{assert_error, fixture, spawn_app, spawn_app_with_products};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|p| p["productId"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn catalog() -> Vec<products::Product> {
    products::embedded_catalog().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn pages_are_disjoint_stably_ordered_by_name_then_id_and_cover_the_listing() {
    // 25 products sharing 5 names, so only the id tie-break makes the order stable; ids are
    // assigned against name order so that sorting by id alone would be wrong.
    let fixtures: Vec<_> = (0..25)
        .map(|i| {
            let mut product = fixture(&format!("p-{:02}", 24 - i), 1);
            product.name = format!("Tee {}", i % 5);
            product
        })
        .collect();
    let app = spawn_app_with_products(&fixtures).await;

    let mut all = Vec::new();
    for page in 1..=4 {
        let (body, _) = app.list_ok(&format!("page={page}&pageSize=10")).await;
        assert_eq!(body["total"], 25);
        assert_eq!(
            (body["page"].clone(), body["pageSize"].clone()),
            (page.into(), 10.into())
        );
        all.push(body["items"].as_array().cloned().unwrap_or_default());
    }

    assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5, 0]);
    let keys: Vec<(String, String)> = all
        .iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["productId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "listing order is (name, productId)");
    let distinct: HashSet<_> = keys.iter().map(|(_, id)| id).collect();
    assert_eq!(distinct.len(), 25);
    let (again, _) = app.list_ok("page=2&pageSize=10").await;
    assert_eq!(
        again["items"],
        Value::Array(all[1].clone()),
        "the same page twice is the same page"
    );
}

#[tokio::test]
async fn items_have_exactly_the_public_product_fields() {
    let app = spawn_app().await;

    let (body, _) = app.list_ok("pageSize=1").await;

    let item = body["items"][0].as_object().cloned().unwrap_or_default();
    let mut fields: Vec<&str> = item.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "brand",
            "category",
            "currency",
            "description",
            "imageUrl",
            "name",
            "price",
            "productId",
            "stockQty",
            "subCategory"
        ]
    );
}

#[tokio::test]
async fn search_is_a_case_insensitive_substring_of_name_or_brand() {
    let app = spawn_app().await;
    let matching = |needle: &str| {
        catalog()
            .into_iter()
            .filter(|p| {
                p.name.to_lowercase().contains(needle) || p.brand.to_lowercase().contains(needle)
            })
            .count()
    };

    let (by_name, _) = app.list_ok("search=fLaNnEl&pageSize=100").await;
    let (by_brand, _) = app.list_ok("search=LINDEN%20ROW&pageSize=100").await;

    assert_eq!(by_name["total"], matching("flannel"));
    assert!(matching("flannel") > 0);
    assert_eq!(by_brand["total"], matching("linden row"));
    assert!(
        by_brand["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|p| p["brand"] == "Linden Row"
                || p["name"]
                    .as_str()
                    .is_some_and(|n| n.to_lowercase().contains("linden row"))))
    );
}

#[tokio::test]
async fn search_treats_regex_metacharacters_literally() {
    let mut dotted = fixture("p-dot", 1);
    dotted.name = "Cap v1.5 (Blue)".into();
    let mut plain = fixture("p-plain", 1);
    plain.name = "Cap v105 Blue".into();
    let app = spawn_app_with_products(&[dotted, plain]).await;

    let (parens, _) = app.list_ok("search=(blue)").await;
    let (dot, _) = app.list_ok("search=1.5").await;
    let (star, _) = app.list_ok("search=.*").await;

    assert_eq!(ids(&parens), ["p-dot"]);
    assert_eq!(ids(&dot), ["p-dot"]);
    assert_eq!(star["total"], 0);
}

#[tokio::test]
async fn category_brand_and_inclusive_price_filters_narrow_the_listing() {
    let mut cheap = fixture("p-cheap", 1);
    cheap.price = Money::from_minor(1000).unwrap_or_default();
    cheap.category = "Footwear".into();
    let mut mid = fixture("p-mid", 1);
    mid.price = Money::from_minor(2000).unwrap_or_default();
    mid.brand = "Fenwick".into();
    let mut dear = fixture("p-dear", 1);
    dear.price = Money::from_minor(3000).unwrap_or_default();
    dear.brand = "Fenwick".into();
    let app = spawn_app_with_products(&[cheap, mid, dear]).await;

    let (footwear, _) = app.list_ok("category=Footwear").await;
    let (fenwick, _) = app.list_ok("brand=Fenwick").await;
    let (priced, _) = app.list_ok("minPrice=1000&maxPrice=2000").await;
    let (combined, _) = app.list_ok("brand=Fenwick&minPrice=2500").await;
    let (empty_values, _) = app
        .list_ok("search=&category=&brand=&minPrice=&maxPrice=")
        .await;

    assert_eq!(ids(&footwear), ["p-cheap"]);
    assert_eq!(fenwick["total"], 2);
    assert_eq!(ids(&priced).len(), 2);
    assert!(
        ids(&priced).contains(&"p-cheap".to_owned()) && ids(&priced).contains(&"p-mid".to_owned())
    );
    assert_eq!(ids(&combined), ["p-dear"]);
    assert_eq!(empty_values["total"], 3);
}

#[tokio::test]
async fn malformed_numbers_are_400_and_out_of_range_values_422_invalid_query() {
    let app = spawn_app_with_products(&[fixture("p-1", 1)]).await;

    for query in ["page=abc", "pageSize=1.5", "minPrice=ten", "maxPrice=1e3"] {
        assert_error(app.list(query).await, 400, "invalid_query").await;
    }
    for query in [
        "page=0",
        "pageSize=0",
        "pageSize=101",
        "minPrice=-1",
        "minPrice=500&maxPrice=100",
    ] {
        let message = assert_error(app.list(query).await, 422, "invalid_query").await;
        assert!(!message.is_empty(), "{query}");
    }
}

#[tokio::test]
async fn an_unknown_product_is_404_product_not_found_naming_it() {
    let app = spawn_app_with_products(&[fixture("p-1", 1)]).await;

    let message = assert_error(app.get_product("p-nope").await, 404, "product_not_found").await;
    assert_error(
        app.get_product("not%20an%20id").await,
        404,
        "product_not_found",
    )
    .await;

    assert!(message.contains("p-nope"), "{message}");
}
