//! The order as the API shows it, and the order request as clients send it, validated once at the
//! edge into [`OrderRequest`].

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shop_domain::{Money, OrderId, OrderStatus, PaymentId, ProductId, Quantity, UserId};

/// Lines per order at most: a bound on the work (and the reservation) one request can cause.
pub const MAX_LINES: usize = 50;

/// `POST /api/orders` as sent. Lenient on purpose (plain strings and integers), so that every rule
/// is checked in one place, [`OrderRequest::try_from`], and answered as `invalid_order`. Unknown
/// fields, such as a client-supplied price, are ignored: prices come from the catalog.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateOrderBody {
    #[serde(default)]
    pub products: Vec<LineBody>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineBody {
    pub product_id: String,
    pub qty: i64,
}

/// One line as requested: what to reserve, not yet priced. It is also the line of the reservation
/// request sent to `products`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedLine {
    pub product_id: ProductId,
    pub qty: Quantity,
}

/// A valid order request: 1 to [`MAX_LINES`] lines, distinct products, quantities in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub lines: Vec<RequestedLine>,
}

impl TryFrom<CreateOrderBody> for OrderRequest {
    type Error = String;

    fn try_from(body: CreateOrderBody) -> Result<Self, Self::Error> {
        if body.products.is_empty() {
            return Err("an order needs at least one product".to_owned());
        }
        if body.products.len() > MAX_LINES {
            return Err(format!("an order has at most {MAX_LINES} lines"));
        }
        let mut seen = HashSet::new();
        let lines = body
            .products
            .into_iter()
            .enumerate()
            .map(|(index, line)| {
                let product_id = ProductId::parse(line.product_id)
                    .map_err(|error| format!("products[{index}]: {error}"))?;
                let qty = Quantity::try_from(line.qty)
                    .map_err(|error| format!("products[{index}]: {error}"))?;
                if !seen.insert(product_id.clone()) {
                    return Err(format!(
                        "products[{index}]: {product_id} appears more than once; put the whole quantity on one line"
                    ));
                }
                Ok(RequestedLine { product_id, qty })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { lines })
    }
}

impl OrderRequest {
    /// What makes two requests "the same" for an `Idempotency-Key`: the lines, in the client's order,
    /// without anything the service ignores (prices, unknown fields, whitespace).
    pub fn canonical(&self) -> String {
        // Serializing ids and small integers cannot fail.
        serde_json::to_string(&self.lines).unwrap_or_default()
    }
}

/// One priced line: the shape `products` answers a reservation with, stored in the order and shown
/// by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricedLine {
    pub product_id: ProductId,
    pub name: String,
    pub qty: Quantity,
    /// Unit price in cents, from the catalog at reservation time.
    pub product_price: Money,
}

/// An order as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub order_status_code: i32,
    /// Σ price × qty, in cents.
    pub order_amount: Money,
    pub currency: String,
    pub products: Vec<PricedLine>,
    pub payment_id: Option<PaymentId>,
    #[serde(with = "shop_domain::time::rfc3339_millis")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "shop_domain::time::rfc3339_millis")]
    pub updated_at: DateTime<Utc>,
}

/// `{items, total, page, pageSize}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    pub items: Vec<Order>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(lines: &[(&str, i64)]) -> CreateOrderBody {
        CreateOrderBody {
            products: lines
                .iter()
                .map(|(id, qty)| LineBody {
                    product_id: (*id).to_owned(),
                    qty: *qty,
                })
                .collect(),
        }
    }

    #[test]
    fn accepts_distinct_products_with_quantities_in_range() {
        let request = OrderRequest::try_from(body(&[("p-1", 1), ("p-2", 100)]));

        assert_eq!(request.map(|r| r.lines.len()), Ok(2));
    }

    #[test]
    fn rejects_what_the_api_promises_to_reject() {
        let too_many: Vec<(String, i64)> = (0..=MAX_LINES).map(|i| (format!("p-{i}"), 1)).collect();
        let too_many: Vec<(&str, i64)> = too_many.iter().map(|(id, q)| (id.as_str(), *q)).collect();
        for (case, lines) in [
            ("empty", vec![]),
            ("qty 0", vec![("p-1", 0)]),
            ("qty 101", vec![("p-1", 101)]),
            ("negative qty", vec![("p-1", -1)]),
            ("duplicate", vec![("p-1", 1), ("p-1", 2)]),
            ("malformed id", vec![("../p", 1)]),
            ("too many lines", too_many),
        ] {
            assert!(OrderRequest::try_from(body(&lines)).is_err(), "{case}");
        }
    }

    #[test]
    fn the_canonical_form_keeps_line_order_and_drops_nothing_that_matters() {
        let a = OrderRequest::try_from(body(&[("p-1", 2), ("p-2", 1)])).map(|r| r.canonical());
        let b = OrderRequest::try_from(body(&[("p-2", 1), ("p-1", 2)])).map(|r| r.canonical());

        assert_eq!(
            a.as_deref(),
            Ok(r#"[{"productId":"p-1","qty":2},{"productId":"p-2","qty":1}]"#)
        );
        assert_ne!(a, b);
    }
}
