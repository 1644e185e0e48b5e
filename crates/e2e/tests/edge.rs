//! The edge, tried as an attacker would, through the gateway in front of the real services: every
//! numeric query parameter at and past its bounds is a 422 in the error shape (never a 500), and
//! paths aimed past a route at a service's internal endpoints never reach them.

use reqwest::Method;
use serde_json::Value;
use shop_e2e::{Shop, product};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The listings and their numeric parameters; each also takes `page` and `pageSize`.
const LISTINGS: &[(&str, bool)] = &[
    ("/api/products", false),
    ("/api/orders", true),
    ("/api/order-history", true),
];

/// Values past every bound: zero and negatives where counting starts at 1, past the maximum, past
/// what 64 bits hold, and both signs of the largest.
const OUT_OF_RANGE: &[&str] = &[
    "0",
    "-1",
    "1000001",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "-9223372036854775809",
    "99999999999999999999999999999999999999",
];

async fn error_code(response: reqwest::Response, what: &str) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response
        .json()
        .await
        .unwrap_or_else(|error| panic!("{what}: not JSON ({status}): {error}"));
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: not the error shape: {body}"))
        .to_owned();
    (status, code)
}

#[tokio::test]
async fn every_numeric_query_parameter_out_of_range_is_a_422_never_a_500() {
    let shop = Shop::start(&[product("p-edge", 1_000, 5)]).await;
    let ada = shop.register_and_login("edge-ada").await;

    for (path, needs_user) in LISTINGS {
        let token = needs_user.then_some(ada.token.as_str());
        for parameter in ["page", "pageSize"] {
            for value in OUT_OF_RANGE {
                let query = format!("{path}?{parameter}={value}");
                let response = shop.call(Method::GET, &query, token, None).await;
                let (status, code) = error_code(response, &query).await;
                assert_eq!((status, code.as_str()), (422, "invalid_query"), "{query}");
            }
            let query = format!("{path}?{parameter}=many");
            let response = shop.call(Method::GET, &query, token, None).await;
            assert_eq!(error_code(response, &query).await.0, 400, "{query}");
        }
        // The last page there can be is an empty page, not an error.
        let query = format!("{path}?page=1000000&pageSize=100");
        let response = shop.call(Method::GET, &query, token, None).await;
        assert_eq!(response.status(), 200, "{query}");
    }
    for query in [
        "/api/products?minPrice=-1",
        "/api/products?maxPrice=99999999999999999999",
        "/api/products?minPrice=1000000000001",
        "/api/products?minPrice=10&maxPrice=5",
        &format!("/api/products?brand={}", "b".repeat(101)),
        &format!("/api/products?category={}", "c".repeat(101)),
        &format!("/api/products?search={}", "s".repeat(101)),
        "/api/products?search=a%00b",
    ] {
        let response = shop.call(Method::GET, query, None, None).await;
        let (status, code) = error_code(response, query).await;
        assert_eq!((status, code.as_str()), (422, "invalid_query"), "{query}");
    }
}

/// `GET <path>` written to the gateway's socket as it is (a client library would normalise it).
async fn raw_get(shop: &Shop, path: &str) -> (u16, String) {
    let address = shop.gateway.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .unwrap_or_else(|error| panic!("connecting to the gateway: {error}"));
    let request = format!("GET {path} HTTP/1.1\r\nhost: shop\r\nconnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|error| panic!("{path}: {error}"));
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .unwrap_or_else(|error| panic!("{path}: {error}"));
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{path}: no status line in {answer:?}"));
    (status, answer)
}

#[tokio::test]
async fn paths_aimed_at_internal_endpoints_never_reach_them() {
    let shop = Shop::start(&[product("p-edge", 1_000, 5)]).await;

    for target in ["metrics", "health/ready", "internal/reservations"] {
        let backslashed = target.replace('/', "\\");
        let encoded = target.replace('/', "%5C");
        for path in [
            format!("/api/products/..\\..\\{backslashed}"),
            format!("/api/products/..%5C..%5C{encoded}"),
            format!("/api/products/..%5c..%5c{encoded}"),
            format!("/api/products/%2e%2e/%2e%2e/{target}"),
            format!(
                "/api/products/%2E%2E%2F%2E%2E%2F{}",
                target.replace('/', "%2F")
            ),
            format!("/api/products/../../{target}"),
            format!("/api/products/.%2e/.%2e/{target}"),
            format!("/api/orders/..\\..\\{backslashed}"),
            format!("/api/orders/%2e%2e%5c%2e%2e%5c{encoded}"),
        ] {
            let (status, answer) = raw_get(&shop, &path).await;
            assert!(status == 400 || status == 404, "{path}: {answer}");
            assert!(
                !answer.contains("# HELP") && !answer.contains("\"ready\""),
                "{path} reached an internal endpoint: {answer}"
            );
        }
    }
}
