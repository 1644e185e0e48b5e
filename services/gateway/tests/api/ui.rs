//! The UI the gateway serves: the pages and their files with their types and security headers,
//! revalidation by `ETag`, and the generated product images.

use reqwest::header;

use crate::helpers::{StandIn, TestGateway, assert_error, send};

#[tokio::test]
async fn the_storefront_and_console_are_html_with_a_self_only_policy() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    for (path, marker) in [("/", "/ui/js/store.js"), ("/ops", "/ui/js/ops.js")] {
        let response = gateway.get(path).await;

        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        let value = |name: header::HeaderName| {
            headers
                .get(&name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(value(header::CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(value(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(value(header::CACHE_CONTROL), "no-cache");
        let policy = value(header::CONTENT_SECURITY_POLICY);
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        let page = response.text().await.unwrap_or_default();
        assert!(page.contains(marker), "{path} loads {marker}");
    }
    assert_eq!(service.calls(), 0, "the pages are the gateway's own");
}

#[tokio::test]
async fn every_file_a_page_loads_is_served_with_its_type_and_revalidates_with_304() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    for asset in gateway::ui::ASSETS
        .iter()
        .filter(|a| !a.path.ends_with(".html"))
    {
        let path = format!("/ui/{}", asset.path);
        let first = gateway.get(&path).await;
        assert_eq!(first.status(), 200, "{path}");
        let content_type = first.headers()[header::CONTENT_TYPE].clone();
        assert_eq!(content_type, asset.content_type, "{path}");
        let etag = first.headers()[header::ETAG].clone();

        let again = send(
            gateway
                .request(reqwest::Method::GET, &path)
                .header(header::IF_NONE_MATCH, etag),
        )
        .await;

        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.unwrap_or_default().is_empty());
    }
}

#[tokio::test]
async fn a_file_that_is_not_part_of_the_ui_is_a_json_404() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    for path in [
        "/ui/nothing.js",
        "/ui/index.html",
        "/ui/../Cargo.toml",
        "/img/products/bad id.svg",
    ] {
        assert_error(gateway.get(path).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn product_images_are_generated_svg_the_same_for_the_same_product() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    let first = gateway.get("/img/products/p-0001.svg?label=FC").await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()[header::CONTENT_TYPE], "image/svg+xml");
    assert_eq!(first.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let first = first.text().await.unwrap_or_default();
    let second = gateway
        .get("/img/products/p-0001.svg?label=FC")
        .await
        .text()
        .await
        .unwrap_or_default();
    let other = gateway
        .get("/img/products/p-0002.svg?label=FC")
        .await
        .text()
        .await
        .unwrap_or_default();

    assert!(first.starts_with("<svg"), "{first}");
    assert!(first.contains(">FC</text>"));
    assert_eq!(first, second);
    assert_ne!(first, other, "colours follow the product id");
}
