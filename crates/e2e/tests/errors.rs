//! Every error status of the API contract, as a client meets it through the gateway: the documented
//! status, a stable `code`, a message, and the request id, whichever service produced it.

use reqwest::{Method, Response};
use serde_json::{Value, json};
use shop_e2e::{Shop, product};

/// Asserts the contract's error shape `{"error":{"code","message"}}` with `status` and `code`, and
/// that the response carries `x-request-id`.
async fn assert_contract_error(response: Response, status: u16, code: &str, what: &str) {
    let got = response.status();
    let has_request_id = response.headers().contains_key("x-request-id");
    let body: Value = response.json().await.unwrap_or_default();
    assert_eq!(got, status, "{what}: {body}");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: no message in {body}"
    );
    assert!(has_request_id, "{what}: no x-request-id");
}

#[tokio::test]
async fn every_documented_error_status_reaches_the_client_in_the_error_shape() {
    let shop = Shop::start(&[product("p-last", 1_000, 1)]).await;
    let ada = shop.register_and_login("ada").await;
    let token = Some(ada.token.as_str());
    let order = |lines: Value| json!({ "products": lines });

    // 400: a body that is not JSON.
    let malformed = shop
        .gateway
        .client
        .post(format!("{}/api/auth/register", shop.gateway.address))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_contract_error(malformed, 400, "malformed_json", "malformed JSON").await;

    // 401: no session, and wrong credentials.
    let anonymous = shop.call(Method::GET, "/api/orders", None, None).await;
    assert_contract_error(anonymous, 401, "unauthenticated", "no token").await;
    let wrong = json!({ "email": ada.email, "password": "not the password" });
    let login = shop
        .call(Method::POST, "/api/auth/login", None, Some(&wrong))
        .await;
    assert_contract_error(login, 401, "invalid_credentials", "wrong password").await;

    // 403: a user's token on an operator's endpoint.
    let ops = shop
        .call(Method::GET, "/api/ops/streams", token, None)
        .await;
    assert_contract_error(ops, 403, "forbidden", "user token on /api/ops").await;

    // 404: unknown product, order and route.
    let no_product = shop
        .call(Method::GET, "/api/products/p-none", None, None)
        .await;
    assert_contract_error(no_product, 404, "product_not_found", "unknown product").await;
    let no_order = shop
        .call(Method::GET, "/api/orders/o-none", token, None)
        .await;
    assert_contract_error(no_order, 404, "order_not_found", "unknown order").await;
    let no_route = shop.call(Method::GET, "/api/nothing", None, None).await;
    assert_contract_error(no_route, 404, "not_found", "unknown route").await;

    // 409: email taken, out of stock, an idempotency key reused with another body.
    let again =
        json!({ "email": ada.email.to_uppercase(), "password": "long enough", "name": "Ada" });
    let taken = shop
        .call(Method::POST, "/api/auth/register", None, Some(&again))
        .await;
    assert_contract_error(taken, 409, "email_taken", "email in another case").await;
    let too_many = order(json!([{ "productId": "p-last", "qty": 2 }]));
    let out = shop
        .call(Method::POST, "/api/orders", token, Some(&too_many))
        .await;
    assert_contract_error(out, 409, "out_of_stock", "more than the stock").await;
    let keyed = |lines: Value| {
        shop.gateway
            .client
            .post(format!("{}/api/orders", shop.gateway.address))
            .bearer_auth(&ada.token)
            .header("idempotency-key", "k-1")
            .json(&order(lines))
            .send()
    };
    let first = keyed(json!([{ "productId": "p-last", "qty": 1 }]))
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(first.status(), 201);
    let reused = keyed(json!([{ "productId": "p-last", "qty": 2 }]))
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_contract_error(
        reused,
        409,
        "idempotency_key_reused",
        "key with another body",
    )
    .await;

    // 413: a body over the gateway's limit.
    let huge = json!({ "email": "x".repeat(100_000), "password": "long enough", "name": "X" });
    let too_large = shop
        .call(Method::POST, "/api/auth/register", None, Some(&huge))
        .await;
    assert_contract_error(too_large, 413, "payload_too_large", "a 100 kB body").await;

    // 422: invalid input.
    let short = json!({ "email": "bob@example.com", "password": "short", "name": "Bob" });
    let weak = shop
        .call(Method::POST, "/api/auth/register", None, Some(&short))
        .await;
    assert_contract_error(weak, 422, "weak_password", "a 5-character password").await;
    let empty = shop
        .call(Method::POST, "/api/orders", token, Some(&order(json!([]))))
        .await;
    assert_contract_error(empty, 422, "invalid_order", "an empty order").await;
    let page = shop
        .call(Method::GET, "/api/products?pageSize=101", None, None)
        .await;
    assert_contract_error(page, 422, "invalid_query", "pageSize 101").await;
}
