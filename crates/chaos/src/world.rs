//! What the system holds after the run, as plain data: every stock movement, reservation and
//! outcome (`products`), order and idempotency key (`orders`), payment (`payments`), read-model
//! fact (`order_history`), and every stream's groups and dead letters. The invariants are pure
//! functions over this (see `invariants`), so they are unit-tested without any server.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::redis::GroupInfo;

/// A ledger movement (`stock_movements`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub id: String,
    pub product_id: String,
    pub seq: i64,
    pub delta: i64,
    pub balance: i64,
    /// `opening`, `reserve` or `release`.
    pub kind: String,
    pub reservation_id: Option<String>,
}

/// An order (`orders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub user_id: String,
    /// `1` created, `3` paid, `-3` payment failed.
    pub status: i32,
    pub amount: i64,
    pub lines: Vec<(String, i64)>,
    pub payment_id: Option<String>,
}

/// A payment (`payments`, `_id` = order id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub order_id: String,
    pub payment_id: String,
    /// `paid` or `failed`.
    pub status: String,
    pub amount: i64,
}

/// The read model's order fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOrder {
    pub order_id: String,
    pub user_id: String,
    pub amount: i64,
}

/// The read model's payment fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPayment {
    pub order_id: String,
    pub payment_id: String,
    pub status: i32,
}

/// One stream and its groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamState {
    pub name: String,
    pub length: u64,
    pub last_id: String,
    #[serde(skip)]
    pub groups: Vec<GroupInfo>,
    pub dead_letters: u64,
}

/// One entry of `<stream>:dlq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The stream it was dead-lettered from.
    pub stream: String,
    pub id: String,
    pub group: String,
    pub original_id: String,
    pub error: String,
}

pub const CREATED: i32 = 1;
pub const PAID: i32 = 3;
pub const PAYMENT_FAILED: i32 = -3;

/// Everything the checks look at.
#[derive(Debug, Clone, Default)]
pub struct World {
    /// The catalog's product ids.
    pub catalog: BTreeSet<String>,
    pub movements: Vec<Movement>,
    /// Reservation id → its lines.
    pub reservations: BTreeMap<String, Vec<(String, i64)>>,
    /// Reservation id → `committed` | `released`.
    pub outcomes: BTreeMap<String, String>,
    pub orders: BTreeMap<String, Order>,
    /// `<userId>:<key>` → the order id the key is bound to.
    pub keys: BTreeMap<String, String>,
    pub payments: BTreeMap<String, Payment>,
    pub history_generation: i64,
    pub history_orders: BTreeMap<String, HistoryOrder>,
    pub history_payments: BTreeMap<String, HistoryPayment>,
    pub streams: Vec<StreamState>,
    pub dead_letters: Vec<DeadLetter>,
    /// `(stream, id)` of the poison entries still in their stream.
    pub poison_present: BTreeSet<(String, String)>,
}
