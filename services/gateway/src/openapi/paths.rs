//! The forwarded routes as utoipa reads them: one declaration per row of the route table
//! (`routes/table.rs`), with its parameters, bodies, answers and security. The table routes the
//! requests; these only describe them, and a test holds the two to the same set of routes.

// Declarations for `#[utoipa::path]`, which reads their attributes; nothing calls them.
#![allow(dead_code)]

use super::schemas::{
    CreateOrder, ErrorBody, HistoryPage, LoggedIn, LoginRequest, Order, OrderPage, Product,
    ProductPage, Profile, RegisterRequest, RegisteredUser,
};

/// Creates an account.
#[utoipa::path(
    post,
    path = "/api/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = RegisteredUser),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 422, description = "An invalid email, or a password shorter than 8", body = ErrorBody),
    )
)]
fn register() {}

/// Opens a session; announces `UserLoggedIn` (client address and user agent) on `IDENTITY_STREAM`.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoggedIn),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
    )
)]
fn login() {}

/// Ends the session of the bearer token: the token stops working.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
fn logout() {}

/// The caller's profile and identity score.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 200, description = "The caller", body = Profile),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
fn me() {}

/// Searches the catalog. `X-Cache` says whether the page came from the cache.
#[utoipa::path(
    get,
    path = "/api/products",
    tag = "products",
    params(
        ("search" = Option<String>, Query, description = "Words in the name, brand or description"),
        ("category" = Option<String>, Query),
        ("brand" = Option<String>, Query),
        ("minPrice" = Option<i64>, Query, description = "Minor units (cents)"),
        ("maxPrice" = Option<i64>, Query, description = "Minor units (cents)"),
        ("page" = Option<u64>, Query, description = "From 1; default 1"),
        ("pageSize" = Option<u64>, Query, description = "1 to 100; default 20"),
    ),
    responses(
        (status = 200, description = "A page of products", body = ProductPage,
            headers(("X-Cache" = String, description = "`HIT` or `MISS`"))),
        (status = 422, description = "A query out of range", body = ErrorBody),
    )
)]
fn list_products() {}

/// One product. `X-Cache` says whether it came from the cache.
#[utoipa::path(
    get,
    path = "/api/products/{productId}",
    tag = "products",
    params(("productId" = String, Path)),
    responses(
        (status = 200, description = "The product", body = Product,
            headers(("X-Cache" = String, description = "`HIT` or `MISS`"))),
        (status = 404, description = "`product_not_found`", body = ErrorBody),
    )
)]
fn get_product() {}

/// Places an order, priced by the catalog, its stock reserved. With an `Idempotency-Key`, the same
/// request again returns the same order and creates nothing.
#[utoipa::path(
    post,
    path = "/api/orders",
    tag = "orders",
    security(("session" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters")),
    request_body = CreateOrder,
    responses(
        (status = 201, description = "Placed; payment follows asynchronously", body = Order),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`product_not_found`", body = ErrorBody),
        (status = 409, description = "`out_of_stock` or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "`invalid_order`", body = ErrorBody),
    )
)]
fn create_order() {}

/// The caller's orders, newest first.
#[utoipa::path(
    get,
    path = "/api/orders",
    tag = "orders",
    security(("session" = [])),
    params(
        ("page" = Option<u64>, Query, description = "From 1; default 1"),
        ("pageSize" = Option<u64>, Query, description = "1 to 100; default 20"),
    ),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
fn list_orders() {}

/// One of the caller's orders; other users' orders do not exist for them.
#[utoipa::path(
    get,
    path = "/api/orders/{orderId}",
    tag = "orders",
    security(("session" = [])),
    params(("orderId" = String, Path)),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`order_not_found`", body = ErrorBody),
    )
)]
fn get_order() {}

/// The caller's order history, projected from the streams.
#[utoipa::path(
    get,
    path = "/api/order-history",
    tag = "orders",
    security(("session" = [])),
    params(
        ("page" = Option<u64>, Query, description = "From 1; default 1"),
        ("pageSize" = Option<u64>, Query, description = "1 to 100; default 20"),
    ),
    responses(
        (status = 200, description = "A page of the history", body = HistoryPage),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
fn order_history() {}
