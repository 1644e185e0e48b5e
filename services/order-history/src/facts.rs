//! The read model's documents: one insert-only fact per event, keyed by the order id. Nothing is ever
//! updated, so the two streams never write the same document (FerretDB loses concurrent updates);
//! the view is merged from both kinds of fact at read time.

use serde::{Deserialize, Serialize};
use shop_domain::events::{OrderCreated, OrderLine, PaymentProcessed};
use shop_domain::{CURRENCY, Money, OrderId, PaymentId, UserId};

/// `orders_created_g<N>`: an order as `OrderCreated` announced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFact {
    #[serde(rename = "_id")]
    pub order_id: OrderId,
    pub user_id: UserId,
    /// Cents.
    pub order_amount: Money,
    pub currency: String,
    /// `{productId, qty, productPrice}`, prices in cents.
    pub products: Vec<OrderLine>,
    pub created_at: bson::DateTime,
}

/// `payments_g<N>`: the outcome `PaymentProcessed` announced for an order. `payments` decides each
/// order once, so every copy of this fact for one order is the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFact {
    #[serde(rename = "_id")]
    pub order_id: OrderId,
    pub user_id: UserId,
    pub payment_id: PaymentId,
    /// `3` paid or `-3` payment failed.
    pub order_status_code: i32,
    pub reason: Option<String>,
    pub created_at: bson::DateTime,
}

/// A fact, whichever kind: what the projection and the rebuild write.
pub trait Fact: Serialize + Send + Sync + 'static {
    /// The collection of this kind of fact in generation `generation`.
    fn collection(generation: i64) -> String;
    fn order_id(&self) -> &OrderId;
}

impl Fact for OrderFact {
    fn collection(generation: i64) -> String {
        format!("{ORDERS_CREATED}_g{generation}")
    }
    fn order_id(&self) -> &OrderId {
        &self.order_id
    }
}

impl Fact for PaymentFact {
    fn collection(generation: i64) -> String {
        format!("{PAYMENTS}_g{generation}")
    }
    fn order_id(&self) -> &OrderId {
        &self.order_id
    }
}

/// Collection name stems; a generation's collections are `<stem>_g<N>`.
pub const ORDERS_CREATED: &str = "orders_created";
pub const PAYMENTS: &str = "payments";

/// The generation a fact collection belongs to, if `name` is one (`payments_g12` → 12).
pub fn generation_of(name: &str) -> Option<i64> {
    [ORDERS_CREATED, PAYMENTS].iter().find_map(|stem| {
        let digits = name.strip_prefix(stem)?.strip_prefix("_g")?;
        // `parse` alone would take `+1`.
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    })
}

impl From<&OrderCreated> for OrderFact {
    fn from(event: &OrderCreated) -> Self {
        Self {
            order_id: event.order_id.clone(),
            user_id: event.user_id.clone(),
            order_amount: event.order_amount,
            currency: CURRENCY.to_owned(),
            products: event.products.clone(),
            created_at: bson::DateTime::from_chrono(event.created_at),
        }
    }
}

impl From<&PaymentProcessed> for PaymentFact {
    fn from(event: &PaymentProcessed) -> Self {
        Self {
            order_id: event.order_id.clone(),
            user_id: event.user_id.clone(),
            payment_id: event.payment_id.clone(),
            order_status_code: event.order_status.code(),
            reason: event.reason.clone(),
            created_at: bson::DateTime::from_chrono(event.created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_collections_are_recognised_by_name() {
        assert_eq!(OrderFact::collection(3), "orders_created_g3");
        assert_eq!(generation_of("orders_created_g3"), Some(3));
        assert_eq!(generation_of(&PaymentFact::collection(0)), Some(0));
        for other in [
            "meta",
            "rebuilds",
            "payments",
            "payments_g",
            "payments_g1x",
            "x_g1",
        ] {
            assert_eq!(generation_of(other), None, "{other}");
        }
    }
}
