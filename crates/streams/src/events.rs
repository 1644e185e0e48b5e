//! The wire format of the shop's events: field names and encodings shared with the reference
//! tutorial (`orderAmount` as a decimal string, `products` as a JSON array, RFC 3339 times).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shop_domain::events::{OrderCreated, OrderLine, PaymentProcessed, UserLoggedIn};
use shop_domain::{Money, OrderStatus, ProductId, Quantity};

use crate::{DecodeError, Event, Fields};

pub const ORDERS_STREAM: &str = "ORDERS_STREAM";
pub const PAYMENTS_STREAM: &str = "PAYMENTS_STREAM";
pub const IDENTITY_STREAM: &str = "IDENTITY_STREAM";

fn time(t: &DateTime<Utc>) -> String {
    shop_domain::time::format_millis(t)
}

fn parse_time(fields: &Fields, name: &'static str) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::parse_from_rfc3339(fields.require(name)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DecodeError::Invalid {
            field: name,
            reason: e.to_string(),
        })
}

/// A line inside the `products` JSON array; prices are decimal strings like `orderAmount`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLine {
    product_id: ProductId,
    qty: Quantity,
    product_price: String,
}

impl Event for OrderCreated {
    const STREAM: &'static str = ORDERS_STREAM;
    const TYPE: &'static str = "OrderCreated";

    fn encode(&self, fields: &mut Fields) {
        let lines: Vec<WireLine> = self
            .products
            .iter()
            .map(|l| WireLine {
                product_id: l.product_id.clone(),
                qty: l.qty,
                product_price: l.product_price.to_decimal_string(),
            })
            .collect();
        fields.push("orderId", self.order_id.as_str());
        fields.push("orderAmount", self.order_amount.to_decimal_string());
        fields.push("userId", self.user_id.as_str());
        // Serializing plain strings and integers cannot fail; an empty array is the safe fallback.
        fields.push(
            "products",
            serde_json::to_string(&lines).unwrap_or_else(|_| "[]".into()),
        );
        fields.push("createdAt", time(&self.created_at));
    }

    fn decode(fields: &Fields) -> Result<Self, DecodeError> {
        let invalid = |reason: String| DecodeError::Invalid {
            field: "products",
            reason,
        };
        let lines: Vec<WireLine> = serde_json::from_str(fields.require("products")?)
            .map_err(|e| invalid(e.to_string()))?;
        let products = lines
            .into_iter()
            .map(|l| {
                Ok(OrderLine {
                    product_id: l.product_id,
                    qty: l.qty,
                    product_price: l
                        .product_price
                        .parse::<Money>()
                        .map_err(|e| invalid(e.to_string()))?,
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(Self {
            order_id: fields.parse("orderId")?,
            user_id: fields.parse("userId")?,
            order_amount: fields.parse("orderAmount")?,
            products,
            created_at: parse_time(fields, "createdAt")?,
        })
    }
}

impl Event for PaymentProcessed {
    const STREAM: &'static str = PAYMENTS_STREAM;
    const TYPE: &'static str = "PaymentProcessed";

    fn encode(&self, fields: &mut Fields) {
        fields.push("orderId", self.order_id.as_str());
        fields.push("paymentId", self.payment_id.as_str());
        fields.push("orderStatusCode", self.order_status.code().to_string());
        fields.push("paidAmount", self.paid_amount.to_decimal_string());
        fields.push("userId", self.user_id.as_str());
        if let Some(reason) = &self.reason {
            fields.push("reason", reason.as_str());
        }
        fields.push("createdAt", time(&self.created_at));
    }

    fn decode(fields: &Fields) -> Result<Self, DecodeError> {
        let code: i32 = fields.parse("orderStatusCode")?;
        let order_status = OrderStatus::from_code(code)
            .ok()
            .filter(|s| s.is_terminal())
            .ok_or_else(|| DecodeError::Invalid {
                field: "orderStatusCode",
                reason: format!("{code} is not a payment outcome (3 or -3)"),
            })?;
        Ok(Self {
            order_id: fields.parse("orderId")?,
            payment_id: fields.parse("paymentId")?,
            user_id: fields.parse("userId")?,
            order_status,
            paid_amount: fields.parse("paidAmount")?,
            reason: fields.get("reason").map(str::to_owned),
            created_at: parse_time(fields, "createdAt")?,
        })
    }
}

impl Event for UserLoggedIn {
    const STREAM: &'static str = IDENTITY_STREAM;
    const TYPE: &'static str = "UserLoggedIn";

    fn encode(&self, fields: &mut Fields) {
        fields.push("userId", self.user_id.as_str());
        fields.push("sessionId", self.session_id.as_str());
        fields.push("ipAddress", self.ip_address.as_str());
        fields.push("browserAgent", self.browser_agent.as_str());
        fields.push("createdAt", time(&self.created_at));
    }

    fn decode(fields: &Fields) -> Result<Self, DecodeError> {
        Ok(Self {
            user_id: fields.parse("userId")?,
            session_id: fields.require("sessionId")?.to_owned(),
            ip_address: fields.require("ipAddress")?.to_owned(),
            browser_agent: fields.require("browserAgent")?.to_owned(),
            created_at: parse_time(fields, "createdAt")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shop_domain::{OrderId, PaymentId, UserId};

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T10:00:00.123Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn order() -> OrderCreated {
        let line = |id: &str, qty, cents| OrderLine {
            product_id: ProductId::parse(id).expect("valid id"),
            qty: Quantity::new(qty).expect("valid qty"),
            product_price: Money::from_minor(cents).expect("valid money"),
        };
        OrderCreated {
            order_id: OrderId::parse("01JDORDER").expect("valid id"),
            user_id: UserId::parse("u1").expect("valid id"),
            order_amount: Money::from_minor(22985).expect("valid money"),
            products: vec![line("p1", 2, 9999), line("p2", 1, 2987)],
            created_at: at(),
        }
    }

    #[test]
    fn order_created_uses_the_documented_fields() {
        let fields = order().to_fields();
        assert_eq!(fields.get("type"), Some("OrderCreated"));
        assert_eq!(fields.get("orderAmount"), Some("229.85"));
        assert_eq!(fields.get("createdAt"), Some("2026-11-25T10:00:00.123Z"));
        assert_eq!(
            fields.get("products"),
            Some(
                r#"[{"productId":"p1","qty":2,"productPrice":"99.99"},{"productId":"p2","qty":1,"productPrice":"29.87"}]"#
            )
        );
        assert_eq!(OrderCreated::from_fields(&fields), Ok(order()));
    }

    #[test]
    fn payment_processed_round_trips_with_and_without_reason() {
        let mut payment = PaymentProcessed {
            order_id: OrderId::parse("o1").expect("valid id"),
            payment_id: PaymentId::parse("pay1").expect("valid id"),
            user_id: UserId::parse("u1").expect("valid id"),
            order_status: OrderStatus::PaymentFailed,
            paid_amount: Money::ZERO,
            reason: Some("amount_limit_exceeded".into()),
            created_at: at(),
        };
        let fields = payment.to_fields();
        assert_eq!(fields.get("orderStatusCode"), Some("-3"));
        assert_eq!(PaymentProcessed::from_fields(&fields), Ok(payment.clone()));

        payment.order_status = OrderStatus::Paid;
        payment.reason = None;
        let fields = payment.to_fields();
        assert_eq!(fields.get("reason"), None);
        assert_eq!(PaymentProcessed::from_fields(&fields), Ok(payment));
    }

    #[test]
    fn decoding_reports_what_is_wrong() {
        let fields = order().to_fields();
        assert!(matches!(
            PaymentProcessed::from_fields(&fields),
            Err(DecodeError::WrongType {
                expected: "PaymentProcessed",
                ..
            })
        ));
        let broken: Fields = fields
            .iter()
            .map(|(n, v)| {
                (
                    n.to_owned(),
                    if n == "orderAmount" {
                        "12.345".into()
                    } else {
                        v.to_owned()
                    },
                )
            })
            .collect();
        assert!(matches!(
            OrderCreated::from_fields(&broken),
            Err(DecodeError::Invalid {
                field: "orderAmount",
                ..
            })
        ));
        let missing = fields.clone().without(&["userId"]);
        assert_eq!(
            OrderCreated::from_fields(&missing),
            Err(DecodeError::Missing("userId"))
        );
        let mut bad_code = PaymentProcessed::from_fields(&Fields::new());
        assert_eq!(bad_code, Err(DecodeError::Missing("type")));
        let mut f = Fields::new();
        f.push("type", "PaymentProcessed");
        f.push("orderStatusCode", "1");
        bad_code = PaymentProcessed::from_fields(&f);
        assert!(matches!(
            bad_code,
            Err(DecodeError::Invalid {
                field: "orderStatusCode",
                ..
            })
        ));
    }
}
