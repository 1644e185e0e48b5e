//! The order history: facts recorded as the streams deliver them, and the per-user view merged from
//! them at read time. The projection is order-insensitive (a payment that arrives before its order
//! waits in its own collection) and idempotent (a fact recorded twice is one document).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shop_domain::events::OrderLine;
use shop_domain::{Money, OrderId, OrderStatus, PaymentId, UnknownStatus, UserId};

use crate::facts::{Fact, OrderFact, PaymentFact};
use crate::store::{Inserted, Store};

/// One order as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    pub order_id: OrderId,
    /// `created` until a payment fact exists, then `paid` or `payment_failed`.
    pub status: OrderStatus,
    pub order_status_code: i32,
    /// Cents.
    pub order_amount: Money,
    /// `{productId, qty, productPrice}`, prices in cents.
    pub products: Vec<OrderLine>,
    pub payment_id: Option<PaymentId>,
    #[serde(with = "shop_domain::time::rfc3339_millis")]
    pub created_at: DateTime<Utc>,
    /// When the payment was decided; the creation time while there is none.
    #[serde(with = "shop_domain::time::rfc3339_millis")]
    pub updated_at: DateTime<Utc>,
}

/// `{items, total, page, pageSize}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub items: Vec<HistoryItem>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// Which page to read: `page` ≥ 1, `page_size` ≥ 1 (the route bounds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub page_size: u64,
}

/// Why a history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the page is out of range")]
    PageOutOfRange,
    #[error(transparent)]
    Database(#[from] mongodb::error::Error),
    /// A stored payment with a status this version does not know.
    #[error("order {order}: {source}")]
    Corrupt {
        order: OrderId,
        source: UnknownStatus,
    },
}

/// Records `fact` in every generation consumers feed (the active one and, while a rebuild runs, the
/// one it builds). A fact already there is left as it is: redeliveries and the rebuild's own copy
/// are no-ops, so a fact may be applied any number of times.
pub async fn record<F: Fact>(store: &Store, fact: &F) -> Result<(), mongodb::error::Error> {
    let pointer = store.generations.current().await?;
    for generation in pointer.targets() {
        if store.insert(generation, fact).await? == Inserted::Duplicate {
            tracing::debug!(generation, order_id = %fact.order_id(), "fact already recorded");
        }
    }
    Ok(())
}

/// One page of `user`'s history from the active generation: one query for the orders (plus their
/// count), one for the payments of those orders.
pub async fn read_page(
    store: &Store,
    user: &UserId,
    request: PageRequest,
) -> Result<HistoryPage, ReadError> {
    // The server takes skips as signed 64-bit integers.
    let skip = (request.page - 1)
        .checked_mul(request.page_size)
        .filter(|&skip| i64::try_from(skip).is_ok())
        .ok_or(ReadError::PageOutOfRange)?;
    let limit = i64::try_from(request.page_size).map_err(|_| ReadError::PageOutOfRange)?;
    let generation = store.generations.current().await?.active;
    let (orders, total) = store.user_orders(generation, user, skip, limit).await?;
    let ids: Vec<OrderId> = orders.iter().map(|order| order.order_id.clone()).collect();
    let mut payments: HashMap<OrderId, PaymentFact> = store
        .payments_of(generation, &ids)
        .await?
        .into_iter()
        .map(|payment| (payment.order_id.clone(), payment))
        .collect();
    let items = orders
        .into_iter()
        .map(|order| {
            let payment = payments.remove(&order.order_id);
            merge(order, payment)
        })
        .collect::<Result<_, _>>()?;
    Ok(HistoryPage {
        items,
        total,
        page: request.page,
        page_size: request.page_size,
    })
}

/// An order and, once there is one, its payment: the item the history shows.
fn merge(order: OrderFact, payment: Option<PaymentFact>) -> Result<HistoryItem, ReadError> {
    let created_at = order.created_at.to_chrono();
    let (status, payment_id, updated_at) = match payment {
        None => (OrderStatus::Created, None, created_at),
        Some(payment) => {
            let status = OrderStatus::from_code(payment.order_status_code).map_err(|source| {
                ReadError::Corrupt {
                    order: order.order_id.clone(),
                    source,
                }
            })?;
            (
                status,
                Some(payment.payment_id),
                payment.created_at.to_chrono(),
            )
        }
    };
    Ok(HistoryItem {
        order_id: order.order_id,
        status,
        order_status_code: status.code(),
        order_amount: order.order_amount,
        products: order.products,
        payment_id,
        created_at,
        updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_fact() -> OrderFact {
        OrderFact {
            order_id: OrderId::generate(),
            user_id: UserId::generate(),
            order_amount: Money::ZERO,
            currency: "USD".to_owned(),
            products: Vec::new(),
            created_at: bson::DateTime::from_millis(1_000),
        }
    }

    fn payment_fact(order: &OrderFact, code: i32) -> PaymentFact {
        PaymentFact {
            order_id: order.order_id.clone(),
            user_id: order.user_id.clone(),
            payment_id: PaymentId::generate(),
            order_status_code: code,
            reason: None,
            created_at: bson::DateTime::from_millis(5_000),
        }
    }

    #[test]
    fn an_order_without_a_payment_is_created_and_updated_when_created() {
        let item = merge(order_fact(), None).ok();

        assert_eq!(item.as_ref().map(|i| i.status), Some(OrderStatus::Created));
        assert_eq!(
            item.as_ref().map(|i| i.updated_at.timestamp_millis()),
            Some(1_000)
        );
        assert_eq!(item.and_then(|i| i.payment_id), None);
    }

    #[test]
    fn a_payment_settles_the_order_and_dates_its_update() {
        let order = order_fact();
        let failed = payment_fact(&order, -3);

        let item = merge(order, Some(failed.clone())).ok();

        assert_eq!(
            item.as_ref().map(|i| i.status),
            Some(OrderStatus::PaymentFailed)
        );
        assert_eq!(item.as_ref().map(|i| i.order_status_code), Some(-3));
        assert_eq!(
            item.as_ref().map(|i| i.updated_at.timestamp_millis()),
            Some(5_000)
        );
        assert_eq!(item.and_then(|i| i.payment_id), Some(failed.payment_id));
    }

    #[test]
    fn a_payment_with_an_unknown_status_is_an_error_not_a_guess() {
        let order = order_fact();
        let odd = payment_fact(&order, 7);

        assert!(matches!(
            merge(order, Some(odd)),
            Err(ReadError::Corrupt { .. })
        ));
    }
}
