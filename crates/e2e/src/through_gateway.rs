//! The shop as a client sees it: every call through the gateway's one public port, users
//! authenticated by the bearer token identity gave them at login, operators by the admin token.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::{ADMIN_TOKEN, Shop};

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub user_id: String,
    pub email: String,
    /// The session token from `POST /api/auth/login`.
    pub token: String,
}

impl Shop {
    /// `method path` through the gateway, with `token` as the bearer and `body` as JSON.
    ///
    /// # Panics
    ///
    /// When the gateway cannot be reached.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self
            .gateway
            .client
            .request(method.clone(), format!("{}{path}", self.gateway.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path} through the gateway: {error}"))
    }

    /// `GET path` as `shopper`, expecting 200; returns the body.
    ///
    /// # Panics
    ///
    /// On any other answer.
    pub async fn get_as(&self, shopper: &Shopper, path: &str) -> Value {
        let response = self
            .call(Method::GET, path, Some(&shopper.token), None)
            .await;
        json_of(response, 200, &format!("GET {path}")).await
    }

    /// Registers `name` (`<name>@example.com`) and logs in.
    ///
    /// # Panics
    ///
    /// When registering or logging in fails.
    pub async fn register_and_login(&self, name: &str) -> Shopper {
        let email = format!("{name}@example.com");
        let password = format!("{name}-has-a-long-password");
        let registered = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(&json!({ "email": email, "password": password, "name": name })),
            )
            .await;
        let registered = json_of(registered, 201, "POST /api/auth/register").await;
        let logged_in = self
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(&json!({ "email": email, "password": password })),
            )
            .await;
        let logged_in = json_of(logged_in, 200, "POST /api/auth/login").await;
        assert_eq!(logged_in["userId"], registered["userId"], "{logged_in}");
        Shopper {
            user_id: text(&registered["userId"]),
            email,
            token: text(&logged_in["token"]),
        }
    }

    /// Places an order of `lines` as `shopper` through the gateway, expecting 201.
    ///
    /// # Panics
    ///
    /// When the order is not created.
    pub async fn order_as(&self, shopper: &Shopper, lines: &[(&str, i64)]) -> Value {
        let body = json!({ "products": product_lines(lines) });
        let response = self
            .call(
                Method::POST,
                "/api/orders",
                Some(&shopper.token),
                Some(&body),
            )
            .await;
        json_of(response, 201, "POST /api/orders").await
    }

    /// Sets `shopper`'s cart to `lines` through the gateway's cart API, expecting 200.
    ///
    /// # Panics
    ///
    /// When the cart is not stored.
    pub async fn put_cart_as(&self, shopper: &Shopper, lines: &[(&str, i64)]) -> Value {
        let body = json!({ "items": product_lines(lines) });
        let response = self
            .call(Method::PUT, "/api/cart", Some(&shopper.token), Some(&body))
            .await;
        json_of(response, 200, "PUT /api/cart").await
    }

    /// Waits until `shopper`'s order `order_id` has left `created` (read through the gateway).
    pub async fn settled_for(&self, shopper: &Shopper, order_id: &str) -> Value {
        let path = format!("/api/orders/{order_id}");
        shop_testkit::eventually(&format!("order {order_id} to settle"), || async {
            let order = self.get_as(shopper, &path).await;
            (order["status"] != "created").then_some(order)
        })
        .await
    }

    /// `shopper`'s order history items (first page).
    pub async fn history(&self, shopper: &Shopper) -> Vec<Value> {
        let page = self.get_as(shopper, "/api/order-history").await;
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// `method path` as the operator.
    pub async fn ops(&self, method: Method, path: &str) -> Response {
        self.call(method, path, Some(ADMIN_TOKEN), None).await
    }

    /// The report of `stream` in `GET /api/ops/streams`.
    ///
    /// # Panics
    ///
    /// When the report cannot be read or lacks the stream.
    pub async fn stream_report(&self, stream: &str) -> Value {
        let reports = self.ops(Method::GET, "/api/ops/streams").await;
        let reports = json_of(reports, 200, "GET /api/ops/streams").await;
        reports
            .as_array()
            .and_then(|all| all.iter().find(|r| r["stream"] == stream))
            .cloned()
            .unwrap_or_else(|| panic!("no report of {stream} in {reports}"))
    }
}

/// The JSON body of `response`, asserting its status first.
///
/// # Panics
///
/// When the status differs or the body is not JSON.
pub async fn json_of(response: Response, status: u16, what: &str) -> Value {
    let got = response.status();
    let body: Value = response.json().await.unwrap_or_default();
    assert_eq!(got, status, "{what}: {body}");
    body
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
        .to_owned()
}

/// `[{productId, qty}]`, the lines of an order or a cart.
fn product_lines(lines: &[(&str, i64)]) -> Vec<Value> {
    lines
        .iter()
        .map(|(id, qty)| json!({ "productId": id, "qty": qty }))
        .collect()
}
