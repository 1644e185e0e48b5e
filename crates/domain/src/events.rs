//! Event payloads exchanged between services. These are the facts one service publishes and others
//! react to; their flat-field wire format is defined next to the transport, in `shop-streams`.

use chrono::{DateTime, Utc};

use crate::{Money, OrderId, OrderStatus, PaymentId, ProductId, Quantity, UserId};

/// One priced line of an order, as it was when the order was placed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: ProductId,
    pub qty: Quantity,
    /// Unit price in minor units, taken from the catalog, never from the client.
    pub product_price: Money,
}

/// `ORDERS_STREAM`: an order was placed and its stock reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCreated {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub order_amount: Money,
    pub products: Vec<OrderLine>,
    pub created_at: DateTime<Utc>,
}

/// `PAYMENTS_STREAM`: the payment for an order was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentProcessed {
    pub order_id: OrderId,
    pub payment_id: PaymentId,
    pub user_id: UserId,
    /// `Paid` or `PaymentFailed`.
    pub order_status: OrderStatus,
    pub paid_amount: Money,
    /// Why the payment was declined; `None` when it succeeded.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `IDENTITY_STREAM`: a user logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLoggedIn {
    pub user_id: UserId,
    pub session_id: String,
    pub ip_address: String,
    pub browser_agent: String,
    pub created_at: DateTime<Utc>,
}
