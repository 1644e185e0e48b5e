//! The global invariants, as pure functions of what the databases and streams hold ([`World`]),
//! what the clients saw ([`TrafficLog`]) and what poison was written. Each gives a [`Verdict`]: how
//! many things it checked, how many broke it, and up to [`EXAMPLES`] offending ids.
//!
//! "Nothing held, lost or stuck": stock is conserved and every unit is accounted for by a paid
//! order or given back; no reservation outlives its order's absence; every order is settled once
//! with one payment; every order a client was told about exists; the read model agrees; dead
//! letters are the poison and only the poison; no consumer group is left behind.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::poison::InjectedPoison;
use crate::read::group_lag;
use crate::traffic::{Outcome, TrafficLog};
use crate::world::{CREATED, PAID, PAYMENT_FAILED, World};

/// Offending ids listed per invariant.
pub const EXAMPLES: usize = 10;

/// The consumer groups each stream must have (group = the consuming service).
pub const EXPECTED_GROUPS: [(&str, &[&str]); 3] = [
    ("orders", &["payments", "order-history", "identity"]),
    ("payments", &["orders", "products", "order-history"]),
    ("identity", &["identity"]),
];

/// The result of one invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub name: &'static str,
    pub checked: usize,
    pub violations: usize,
    pub examples: Vec<String>,
    /// Context: totals behind the count (units leaked, poison lost with Redis data, ...).
    pub note: String,
}

impl Verdict {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            checked: 0,
            violations: 0,
            examples: Vec::new(),
            note: String::new(),
        }
    }

    fn check(&mut self) {
        self.checked += 1;
    }

    fn violate(&mut self, example: impl FnOnce() -> String) {
        self.violations += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(example());
        }
    }

    pub fn holds(&self) -> bool {
        self.violations == 0
    }
}

/// What the ledger says about each reservation line: units reserved and released, and how often.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LineMoves {
    reserved: i64,
    released: i64,
    reserves: u32,
    releases: u32,
}

/// The ledger folded by reservation id and product.
#[derive(Debug, Default)]
struct Holdings {
    lines: BTreeMap<String, BTreeMap<String, LineMoves>>,
}

impl Holdings {
    fn of(world: &World) -> Self {
        let mut holdings = Self::default();
        for m in &world.movements {
            let Some(rid) = &m.reservation_id else {
                continue;
            };
            let line = holdings
                .lines
                .entry(rid.clone())
                .or_default()
                .entry(m.product_id.clone())
                .or_default();
            match m.kind.as_str() {
                "reserve" => {
                    line.reserved += -m.delta;
                    line.reserves += 1;
                }
                "release" => {
                    line.released += m.delta;
                    line.releases += 1;
                }
                _ => {}
            }
        }
        holdings
    }

    /// Units a reservation still holds, all lines together.
    fn held(&self, rid: &str) -> i64 {
        self.lines.get(rid).map_or(0, |lines| {
            lines.values().map(|l| l.reserved - l.released).sum()
        })
    }

    fn released_any(&self, rid: &str) -> bool {
        self.lines
            .get(rid)
            .is_some_and(|lines| lines.values().any(|l| l.releases > 0))
    }

    fn describe(&self, rid: &str) -> String {
        self.lines.get(rid).map_or_else(String::new, |lines| {
            lines
                .iter()
                .filter(|(_, l)| l.reserved != l.released)
                .map(|(product, l)| format!("{product}×{}", l.reserved - l.released))
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

/// Every invariant, in report order.
pub fn check_all(world: &World, traffic: &TrafficLog, poison: &[InjectedPoison]) -> Vec<Verdict> {
    let holdings = Holdings::of(world);
    vec![
        ledger_consistent(world),
        no_oversell(world),
        reservation_moves_well_formed(world, &holdings),
        stock_conserved(world),
        no_leaked_reservation(world, &holdings),
        orders_settled(world),
        one_matching_payment(world),
        no_orphan_payment(world),
        paid_orders_keep_stock(world, &holdings),
        open_orders_hold_stock(world, &holdings),
        failed_orders_released(world, &holdings),
        acknowledged_orders_exist(world, traffic),
        unanswered_orders_resolved(world, traffic, &holdings),
        history_agrees(world),
        dead_letters_only_poison(world, poison),
        poison_dead_lettered(world, poison),
        groups_drained(world),
    ]
}

fn by_product(world: &World) -> BTreeMap<&str, Vec<&crate::world::Movement>> {
    let mut map: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for m in &world.movements {
        map.entry(m.product_id.as_str()).or_default().push(m);
    }
    for moves in map.values_mut() {
        moves.sort_by_key(|m| m.seq);
    }
    map
}

/// Each product's ledger: seqs 1, 2, 3, ... with an opening first, every balance the previous one
/// plus the delta, and every movement of a known kind with the right sign.
pub fn ledger_consistent(world: &World) -> Verdict {
    let mut v = Verdict::new("ledger consistent (seq, balance = previous + delta)");
    let ledgers = by_product(world);
    let products: BTreeSet<&str> = world
        .catalog
        .iter()
        .map(String::as_str)
        .chain(ledgers.keys().copied())
        .collect();
    for product in products {
        v.check();
        let Some(moves) = ledgers.get(product) else {
            v.violate(|| format!("{product}: no movements at all"));
            continue;
        };
        let mut problem = None;
        let mut previous = 0;
        for (i, m) in moves.iter().enumerate() {
            let expected_seq = i as i64 + 1;
            let sign_ok = match m.kind.as_str() {
                "opening" => m.seq == 1 && m.delta >= 0,
                "reserve" => m.delta < 0 && m.reservation_id.is_some(),
                "release" => m.delta > 0 && m.reservation_id.is_some(),
                _ => false,
            };
            if m.seq != expected_seq {
                problem = Some(format!("seq {} where {expected_seq} belongs", m.seq));
            } else if i == 0 && m.kind != "opening" {
                problem = Some(format!("starts with a {} movement", m.kind));
            } else if !sign_ok {
                problem = Some(format!("seq {}: a {} of {}", m.seq, m.kind, m.delta));
            } else if m.balance != previous + m.delta {
                problem = Some(format!(
                    "seq {}: balance {} ≠ {previous} + ({})",
                    m.seq, m.balance, m.delta
                ));
            }
            if problem.is_some() {
                break;
            }
            previous = m.balance;
        }
        if let Some(problem) = problem {
            v.violate(|| format!("{product}: {problem}"));
        }
    }
    v
}

/// No balance below zero anywhere in any ledger: nothing was sold twice.
pub fn no_oversell(world: &World) -> Verdict {
    let mut v = Verdict::new("no oversell (no negative balance)");
    for m in &world.movements {
        v.check();
        if m.balance < 0 {
            v.violate(|| format!("{} balance {}", m.id, m.balance));
        }
    }
    v
}

/// Each reservation line is reserved at most once and released at most once, a release only
/// after a reserve and of the same quantity, and the lines are the reservation's own.
fn reservation_moves_well_formed(world: &World, holdings: &Holdings) -> Verdict {
    let mut v = Verdict::new("reserve/release at most once per line, matching");
    for (rid, lines) in &holdings.lines {
        let declared = world.reservations.get(rid);
        for (product, l) in lines {
            v.check();
            let declared_qty = declared.and_then(|lines| {
                lines
                    .iter()
                    .find(|(p, _)| p == product)
                    .map(|(_, qty)| *qty)
            });
            let problem = if l.reserves > 1 || l.releases > 1 {
                Some(format!("{} reserves, {} releases", l.reserves, l.releases))
            } else if l.releases > 0 && l.reserves == 0 {
                Some("released without a reserve".to_owned())
            } else if l.releases > 0 && l.released != l.reserved {
                Some(format!("reserved {}, released {}", l.reserved, l.released))
            } else if l.reserves > 0 && declared_qty != Some(l.reserved) {
                Some(format!(
                    "reserved {} but the reservation says {declared_qty:?}",
                    l.reserved
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                v.violate(|| format!("{rid}/{product}: {problem}"));
            }
        }
    }
    v
}

/// Per product: opening stock − units of paid orders − units of orders still open = the ledger's
/// current balance. A unit held by a reservation without an order, or not given back by a failed
/// order, or given back by a paid one, shows up here as a difference.
pub fn stock_conserved(world: &World) -> Verdict {
    let mut v = Verdict::new("stock conserved (opening − paid − open = balance)");
    let mut paid: BTreeMap<&str, i64> = BTreeMap::new();
    let mut open: BTreeMap<&str, i64> = BTreeMap::new();
    for order in world.orders.values() {
        let bucket = match order.status {
            PAID => &mut paid,
            CREATED => &mut open,
            _ => continue,
        };
        for (product, qty) in &order.lines {
            *bucket.entry(product.as_str()).or_default() += qty;
        }
    }
    let mut unaccounted_total = 0;
    for (product, moves) in by_product(world) {
        v.check();
        let opening: i64 = moves
            .iter()
            .filter(|m| m.kind == "opening")
            .map(|m| m.delta)
            .sum();
        let balance = moves.last().map_or(0, |m| m.balance);
        let sold = paid.get(product).copied().unwrap_or(0);
        let held = open.get(product).copied().unwrap_or(0);
        let expected = opening - sold - held;
        if expected != balance {
            unaccounted_total += expected - balance;
            v.violate(|| {
                format!(
                    "{product}: {opening} − {sold} paid − {held} open = {expected}, ledger {balance} ({:+})",
                    balance - expected
                )
            });
        }
    }
    if unaccounted_total != 0 {
        v.note = format!("{unaccounted_total} units missing from the balances in all");
    }
    v
}

/// A reservation still holding stock (reserve movements not given back) whose order does not
/// exist: stock nobody can buy and nobody will release. Counted after the expiry window.
fn no_leaked_reservation(world: &World, holdings: &Holdings) -> Verdict {
    let mut v = Verdict::new("no leaked reservation (stock held, no order)");
    let mut units = 0;
    for rid in holdings.lines.keys() {
        v.check();
        let held = holdings.held(rid);
        if held > 0 && !world.orders.contains_key(rid) {
            units += held;
            v.violate(|| format!("{rid} holds {}", holdings.describe(rid)));
        }
    }
    v.note = format!(
        "{} reservations in the ledger; leaked ones hold {units} units",
        v.checked
    );
    v
}

/// Every order ended `paid` or `payment_failed`.
pub fn orders_settled(world: &World) -> Verdict {
    let mut v = Verdict::new("every order settled (paid | payment_failed)");
    for order in world.orders.values() {
        v.check();
        if order.status != PAID && order.status != PAYMENT_FAILED {
            v.violate(|| format!("{} status {}", order.id, order.status));
        }
    }
    v
}

/// Every settled order has its payment, with the same outcome, amount and payment id.
pub fn one_matching_payment(world: &World) -> Verdict {
    let mut v = Verdict::new("settled order ↔ one payment (status, amount, id)");
    for order in world.orders.values() {
        if order.status != PAID && order.status != PAYMENT_FAILED {
            continue;
        }
        v.check();
        let Some(payment) = world.payments.get(&order.id) else {
            v.violate(|| format!("{}: settled {} without a payment", order.id, order.status));
            continue;
        };
        let status_ok = matches!(
            (order.status, payment.status.as_str()),
            (PAID, "paid") | (PAYMENT_FAILED, "failed")
        );
        if !status_ok {
            v.violate(|| {
                format!(
                    "{}: order {} payment {}",
                    order.id, order.status, payment.status
                )
            });
        } else if payment.amount != order.amount {
            v.violate(|| {
                format!(
                    "{}: order {} paid {}",
                    order.id, order.amount, payment.amount
                )
            });
        } else if order.payment_id.as_deref() != Some(payment.payment_id.as_str()) {
            v.violate(|| {
                format!(
                    "{}: order says payment {:?}, payments has {}",
                    order.id, order.payment_id, payment.payment_id
                )
            });
        }
    }
    v
}

/// Every payment is for an order that exists.
pub fn no_orphan_payment(world: &World) -> Verdict {
    let mut v = Verdict::new("no payment without its order");
    for payment in world.payments.values() {
        v.check();
        if !world.orders.contains_key(&payment.order_id) {
            v.violate(|| format!("{} ({})", payment.order_id, payment.payment_id));
        }
    }
    v
}

/// A paid order's reservation holds all its lines, was never released, and is committed.
fn paid_orders_keep_stock(world: &World, holdings: &Holdings) -> Verdict {
    let mut v = Verdict::new("paid order: stock kept and committed, never released");
    for order in world.orders.values().filter(|o| o.status == PAID) {
        v.check();
        let units: i64 = order.lines.iter().map(|(_, qty)| qty).sum();
        let outcome = world.outcomes.get(&order.id).map(String::as_str);
        let problem = if holdings.released_any(&order.id) || outcome == Some("released") {
            Some(format!("released (outcome {outcome:?})"))
        } else if holdings.held(&order.id) != units {
            Some(format!(
                "holds {} of its {units} units",
                holdings.held(&order.id)
            ))
        } else if outcome != Some("committed") {
            Some(format!("outcome {outcome:?}, not committed"))
        } else {
            None
        };
        if let Some(problem) = problem {
            v.violate(|| format!("{}: {problem}", order.id));
        }
    }
    v
}

/// An order not settled yet still holds every unit of its lines, and its reservation has no outcome:
/// its stock must be there when it is paid. (Such an order already breaks "every order settled";
/// this says what happened to its stock.)
fn open_orders_hold_stock(world: &World, holdings: &Holdings) -> Verdict {
    let mut v = Verdict::new("open order: stock still held, no outcome");
    for order in world.orders.values().filter(|o| o.status == CREATED) {
        v.check();
        let units: i64 = order.lines.iter().map(|(_, qty)| qty).sum();
        let held = holdings.held(&order.id);
        let outcome = world.outcomes.get(&order.id).map(String::as_str);
        if held != units || outcome.is_some() {
            v.violate(|| format!("{}: holds {held} of {units}, outcome {outcome:?}", order.id));
        }
    }
    v
}

/// A payment_failed order's reservation gave every unit back.
fn failed_orders_released(world: &World, holdings: &Holdings) -> Verdict {
    let mut v = Verdict::new("payment_failed order: stock released");
    for order in world.orders.values().filter(|o| o.status == PAYMENT_FAILED) {
        v.check();
        let held = holdings.held(&order.id);
        let outcome = world.outcomes.get(&order.id).map(String::as_str);
        if held != 0 || outcome != Some("released") {
            v.violate(|| format!("{}: holds {held}, outcome {outcome:?}", order.id));
        }
    }
    v
}

/// Every order a client got a 2xx for exists, with that id and amount, for that user; and one
/// key never yielded two different orders.
pub fn acknowledged_orders_exist(world: &World, traffic: &TrafficLog) -> Verdict {
    let mut v = Verdict::new("every 201 order exists (same id, amount); one per key");
    let mut per_key: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for attempt in &traffic.attempts {
        let Outcome::Created { order_id, amount } = &attempt.outcome else {
            continue;
        };
        v.check();
        per_key
            .entry((attempt.user_id.as_str(), attempt.key.as_str()))
            .or_default()
            .insert(order_id.as_str());
        match world.orders.get(order_id) {
            None => v.violate(|| format!("{order_id} (key {}): missing", attempt.key)),
            Some(order) if order.amount != *amount || order.user_id != attempt.user_id => {
                v.violate(|| {
                    format!(
                        "{order_id}: client saw {amount} for {}, stored {} for {}",
                        attempt.user_id, order.amount, order.user_id
                    )
                });
            }
            Some(_) => {}
        }
    }
    for ((user, key), ids) in per_key {
        if ids.len() > 1 {
            v.violate(|| format!("{user}:{key} answered with {} orders: {ids:?}", ids.len()));
        }
    }
    v
}

/// A key that never got a 2xx (the client hung up, got 5xx, gave up): whatever order it is bound
/// to either exists and is settled, or does not exist and holds no stock.
fn unanswered_orders_resolved(world: &World, traffic: &TrafficLog, holdings: &Holdings) -> Verdict {
    let mut v = Verdict::new("unanswered order: settled, or absent and holding nothing");
    let mut answered: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut keys: BTreeSet<(&str, &str)> = BTreeSet::new();
    for a in &traffic.attempts {
        let key = (a.user_id.as_str(), a.key.as_str());
        keys.insert(key);
        if matches!(a.outcome, Outcome::Created { .. }) {
            answered.insert(key);
        }
    }
    let (mut placed, mut absent, mut unbound) = (0, 0, 0);
    for (user, key) in keys.difference(&answered) {
        v.check();
        let Some(order_id) = world.keys.get(&format!("{user}:{key}")) else {
            unbound += 1;
            continue;
        };
        match world.orders.get(order_id) {
            Some(order) => {
                placed += 1;
                if order.status != PAID && order.status != PAYMENT_FAILED {
                    v.violate(|| format!("{order_id} (key {key}): status {}", order.status));
                }
            }
            None => {
                absent += 1;
                let held = holdings.held(order_id);
                if held > 0 {
                    v.violate(|| {
                        format!(
                            "{order_id} (key {key}): no order, holds {}",
                            holdings.describe(order_id)
                        )
                    });
                }
            }
        }
    }
    v.note = format!(
        "{placed} placed without the client knowing, {absent} never placed, {unbound} keys not bound"
    );
    v
}

/// The read model has every order with its amount and user, and every settled order's outcome and
/// payment id; it has nothing the orders database does not.
pub fn history_agrees(world: &World) -> Verdict {
    let mut v = Verdict::new("order-history agrees (status, amount, paymentId)");
    for order in world.orders.values() {
        v.check();
        let problem = match world.history_orders.get(&order.id) {
            None => Some("missing from the history".to_owned()),
            Some(fact) if fact.amount != order.amount || fact.user_id != order.user_id => Some(
                format!("history amount {} user {}", fact.amount, fact.user_id),
            ),
            Some(_) => match (order.status, world.history_payments.get(&order.id)) {
                (CREATED, None) => None,
                (CREATED, Some(fact)) => Some(format!("history settled {}", fact.status)),
                (_, None) => Some(format!("settled {}, history not", order.status)),
                (status, Some(fact)) if fact.status != status => {
                    Some(format!("status {status}, history {}", fact.status))
                }
                (_, Some(fact))
                    if order.payment_id.as_deref() != Some(fact.payment_id.as_str()) =>
                {
                    Some(format!(
                        "payment {:?}, history {}",
                        order.payment_id, fact.payment_id
                    ))
                }
                _ => None,
            },
        };
        if let Some(problem) = problem {
            v.violate(|| format!("{}: {problem}", order.id));
        }
    }
    let orphans: BTreeSet<&String> = world
        .history_orders
        .keys()
        .chain(world.history_payments.keys())
        .filter(|id| !world.orders.contains_key(*id))
        .collect();
    for id in orphans {
        v.check();
        v.violate(|| format!("{id}: in the history, not in orders"));
    }
    v
}

/// The injected poison by stream: entry id → variant.
fn poison_ids(poison: &[InjectedPoison]) -> BTreeMap<(&str, &str), &'static str> {
    poison
        .iter()
        .filter_map(|p| Some(((p.stream.as_str(), p.id.as_deref()?), p.variant)))
        .collect()
}

/// Every dead letter is a copy of injected poison, and no group dead-lettered one entry twice.
pub fn dead_letters_only_poison(world: &World, poison: &[InjectedPoison]) -> Verdict {
    let mut v = Verdict::new("dead letters = poison only, once per group");
    let ids = poison_ids(poison);
    let mut seen: BTreeMap<(&str, &str, &str), u32> = BTreeMap::new();
    for letter in &world.dead_letters {
        v.check();
        if !ids.contains_key(&(letter.stream.as_str(), letter.original_id.as_str())) {
            v.violate(|| {
                format!(
                    "{} {} by {}: legitimate entry dead-lettered ({})",
                    letter.stream,
                    letter.original_id,
                    letter.group,
                    truncate(&letter.error, 80)
                )
            });
        }
        *seen
            .entry((
                letter.stream.as_str(),
                letter.original_id.as_str(),
                letter.group.as_str(),
            ))
            .or_default() += 1;
    }
    for ((stream, id, group), n) in seen {
        if n > 1 {
            v.violate(|| format!("{stream} {id} dead-lettered {n}× by {group}"));
        }
    }
    v
}

/// Every poison entry still in its stream was dead-lettered by every group of that stream (a
/// group that did not is stuck on it, or skipped it silently). Poison that a Redis kill took with
/// it is not required.
pub fn poison_dead_lettered(world: &World, poison: &[InjectedPoison]) -> Verdict {
    let mut v = Verdict::new("surviving poison dead-lettered by every group");
    let lettered: BTreeSet<(&str, &str, &str)> = world
        .dead_letters
        .iter()
        .map(|l| (l.stream.as_str(), l.original_id.as_str(), l.group.as_str()))
        .collect();
    let (mut written, mut lost) = (0, 0);
    for p in poison {
        let Some(id) = &p.id else { continue };
        written += 1;
        if !world
            .poison_present
            .contains(&(p.stream.clone(), id.clone()))
        {
            lost += 1;
            continue;
        }
        let Some(stream) = world.streams.iter().find(|s| s.name == p.stream) else {
            continue;
        };
        for group in &stream.groups {
            v.check();
            if !lettered.contains(&(p.stream.as_str(), id.as_str(), group.name.as_str())) {
                v.violate(|| format!("{} {id} ({}) not by {}", p.stream, p.variant, group.name));
            }
        }
    }
    v.note = format!("{written} poison entries written, {lost} lost with Redis data");
    v
}

/// Every group exists and has read and acknowledged everything in its stream.
pub fn groups_drained(world: &World) -> Verdict {
    let mut v = Verdict::new("consumer groups present and drained (lag 0, pending 0)");
    for (short, groups) in EXPECTED_GROUPS {
        let Some(stream) = world
            .streams
            .iter()
            .find(|s| stream_short(&s.name) == short)
        else {
            continue;
        };
        for name in groups.iter() {
            v.check();
            match stream.groups.iter().find(|g| g.name == *name) {
                None => v.violate(|| format!("{}/{name}: missing", stream.name)),
                Some(group) => {
                    let lag = group_lag(group, &stream.last_id);
                    if lag > 0 || group.pending > 0 {
                        v.violate(|| {
                            format!(
                                "{}/{name}: lag {}, pending {}, at {} of {}",
                                stream.name,
                                group.lag.map_or("?".to_owned(), |l| l.to_string()),
                                group.pending,
                                group.last_delivered,
                                stream.last_id
                            )
                        });
                    }
                }
            }
        }
    }
    v
}

/// `orders` for `<prefix>ORDERS_STREAM`, and so on.
fn stream_short(name: &str) -> &'static str {
    if name.ends_with("ORDERS_STREAM") {
        "orders"
    } else if name.ends_with("PAYMENTS_STREAM") {
        "payments"
    } else {
        "identity"
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests;
