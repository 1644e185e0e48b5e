//! The bodies of the public API as OpenAPI schemas. The gateway relays these bodies without reading
//! them, so these types exist for the document only; their shapes are the contract of
//! `docs/api.md`, which each service's own tests hold it to.

// Described, never built: only the `ToSchema` impls read these types.
#![allow(dead_code)]

use utoipa::ToSchema;

/// Every error: `{"error":{"code":"snake_case","message":"..."}}`.
#[derive(Debug, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: clients branch on this.
    #[schema(example = "out_of_stock")]
    pub code: String,
    /// For humans; the wording may change.
    pub message: String,
}

#[derive(Debug, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    pub password: String,
    pub name: String,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RegisteredUser {
    pub user_id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct LoggedIn {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub user_id: String,
    /// RFC 3339; the session ends then, or at logout.
    #[schema(example = "2025-01-01T12:00:00.000Z")]
    pub expires_at: String,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// In [0, 1], from the user's digital identity records; `null` before the first one.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub identity_score: Option<f64>,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Product {
    pub product_id: String,
    pub name: String,
    pub brand: String,
    pub category: String,
    pub sub_category: String,
    pub description: String,
    /// Minor units (cents).
    pub price: i64,
    #[schema(example = "USD")]
    pub currency: String,
    pub stock_qty: i64,
    pub image_url: String,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ProductPage {
    pub items: Vec<Product>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

#[derive(Debug, ToSchema)]
pub struct CreateOrder {
    /// 1 to 100 of each product, each product once.
    pub products: Vec<OrderLineRequest>,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OrderLineRequest {
    pub product_id: String,
    #[schema(minimum = 1, maximum = 100)]
    pub qty: u32,
}

/// `created` (1), `paid` (3) or `payment_failed` (-3).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OrderStatus {
    Created,
    Paid,
    PaymentFailed,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub user_id: String,
    pub status: OrderStatus,
    #[schema(example = 3)]
    pub order_status_code: i32,
    /// Minor units (cents), priced by the catalog.
    pub order_amount: i64,
    pub currency: String,
    pub products: Vec<OrderLine>,
    /// Set once the payment is processed.
    pub payment_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: String,
    pub name: String,
    pub qty: u32,
    /// Minor units (cents), at the time of the order.
    pub product_price: i64,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OrderPage {
    /// The caller's orders, newest first.
    pub items: Vec<Order>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// An order as the history projects it from the streams.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct HistoryItem {
    pub order_id: String,
    pub status: OrderStatus,
    pub order_status_code: i32,
    pub order_amount: i64,
    pub products: Vec<HistoryLine>,
    pub payment_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct HistoryLine {
    pub product_id: String,
    pub qty: u32,
    pub product_price: i64,
}

#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct HistoryPage {
    pub items: Vec<HistoryItem>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// `POST /api/ops/order-history/rebuild`'s answer (order-history's, relayed).
#[derive(Debug, ToSchema)]
pub struct Rebuilt {
    /// Stream entries applied to the new model.
    pub events: u64,
}
