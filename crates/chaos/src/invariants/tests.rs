//! The invariants over small in-memory worlds: a healthy one holds everything, and each kind of
//! damage breaks exactly the invariants that should see it.

use super::*;
use crate::redis::GroupInfo;
use crate::traffic::Attempt;
use crate::world::{
    DeadLetter, HistoryOrder, HistoryPayment, Movement, Order, Payment, StreamState,
};

fn movement(
    product: &str,
    seq: i64,
    kind: &str,
    delta: i64,
    balance: i64,
    rid: Option<&str>,
) -> Movement {
    Movement {
        id: format!("{product}#{seq:010}"),
        product_id: product.into(),
        seq,
        delta,
        balance,
        kind: kind.into(),
        reservation_id: rid.map(str::to_owned),
    }
}

fn group(name: &str, last: &str) -> GroupInfo {
    GroupInfo {
        name: name.into(),
        consumers: 1,
        pending: 0,
        lag: Some(0),
        last_delivered: last.into(),
    }
}

fn poison() -> Vec<InjectedPoison> {
    vec![
        InjectedPoison {
            stream: "ORDERS_STREAM".into(),
            variant: "wrong-type",
            id: Some("9-0".into()),
            error: None,
            at_ms: 1,
            bytes: 10,
        },
        InjectedPoison {
            stream: "IDENTITY_STREAM".into(),
            variant: "single-field",
            id: Some("4-0".into()),
            error: None,
            at_ms: 2,
            bytes: 10,
        },
    ]
}

fn attempt(key: &str, outcome: Outcome) -> Attempt {
    Attempt {
        client: 0,
        user_id: "u1".into(),
        key: key.into(),
        try_no: 1,
        lines: vec![("p-1".into(), 2)],
        at_ms: 0,
        took_ms: 5,
        timeout_ms: 10,
        outcome,
    }
}

/// A paid order, a failed one (released), a compensated reservation without an order, one poison
/// entry on ORDERS_STREAM dead-lettered by its three groups, and one on IDENTITY_STREAM lost with
/// Redis data.
fn healthy() -> (World, TrafficLog, Vec<InjectedPoison>) {
    let mut world = World {
        catalog: ["p-1", "p-2"].iter().map(|s| s.to_string()).collect(),
        ..World::default()
    };
    world.movements = vec![
        movement("p-1", 1, "opening", 10, 10, None),
        movement("p-1", 2, "reserve", -2, 8, Some("o-paid")),
        movement("p-1", 3, "reserve", -1, 7, Some("o-gone")),
        movement("p-1", 4, "release", 1, 8, Some("o-gone")),
        movement("p-2", 1, "opening", 5, 5, None),
        movement("p-2", 2, "reserve", -1, 4, Some("o-failed")),
        movement("p-2", 3, "release", 1, 5, Some("o-failed")),
    ];
    world.reservations = [
        ("o-paid", vec![("p-1".to_owned(), 2)]),
        ("o-gone", vec![("p-1".to_owned(), 1)]),
        ("o-failed", vec![("p-2".to_owned(), 1)]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    world.outcomes = [
        ("o-paid", "committed"),
        ("o-gone", "released"),
        ("o-failed", "released"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (id, status, amount, product, pay) in [
        ("o-paid", PAID, 200, "p-1", "pay-1"),
        ("o-failed", PAYMENT_FAILED, 900, "p-2", "pay-2"),
    ] {
        let qty = if product == "p-1" { 2 } else { 1 };
        world.orders.insert(
            id.into(),
            Order {
                id: id.into(),
                user_id: "u1".into(),
                status,
                amount,
                lines: vec![(product.into(), qty)],
                payment_id: Some(pay.into()),
            },
        );
        world.payments.insert(
            id.into(),
            Payment {
                order_id: id.into(),
                payment_id: pay.into(),
                status: if status == PAID { "paid" } else { "failed" }.into(),
                amount,
            },
        );
        world.history_orders.insert(
            id.into(),
            HistoryOrder {
                order_id: id.into(),
                user_id: "u1".into(),
                amount,
            },
        );
        world.history_payments.insert(
            id.into(),
            HistoryPayment {
                order_id: id.into(),
                payment_id: pay.into(),
                status,
            },
        );
    }
    world.keys.insert("u1:k1".into(), "o-paid".into());
    world.keys.insert("u1:k2".into(), "o-gone".into());
    world.streams = vec![
        StreamState {
            name: "ORDERS_STREAM".into(),
            length: 3,
            last_id: "9-0".into(),
            groups: ["payments", "order-history", "identity"]
                .iter()
                .map(|g| group(g, "9-0"))
                .collect(),
            dead_letters: 3,
        },
        StreamState {
            name: "PAYMENTS_STREAM".into(),
            length: 2,
            last_id: "8-0".into(),
            groups: ["orders", "products", "order-history"]
                .iter()
                .map(|g| group(g, "8-0"))
                .collect(),
            dead_letters: 0,
        },
        StreamState {
            name: "IDENTITY_STREAM".into(),
            length: 1,
            last_id: "5-0".into(),
            groups: vec![group("identity", "5-0")],
            dead_letters: 0,
        },
    ];
    world.dead_letters = ["payments", "order-history", "identity"]
        .iter()
        .enumerate()
        .map(|(i, g)| DeadLetter {
            stream: "ORDERS_STREAM".into(),
            id: format!("{}-0", 20 + i),
            group: (*g).into(),
            original_id: "9-0".into(),
            error: "undecodable entry".into(),
        })
        .collect();
    world
        .poison_present
        .insert(("ORDERS_STREAM".into(), "9-0".into()));
    let traffic = TrafficLog {
        attempts: vec![
            attempt(
                "k1",
                Outcome::NoAnswer {
                    reason: "timeout".into(),
                },
            ),
            attempt(
                "k1",
                Outcome::Created {
                    order_id: "o-paid".into(),
                    amount: 200,
                },
            ),
            attempt(
                "k2",
                Outcome::NoAnswer {
                    reason: "timeout".into(),
                },
            ),
        ],
        ..TrafficLog::default()
    };
    (world, traffic, poison())
}

/// The names of the invariants that do not hold.
fn broken(world: &World, traffic: &TrafficLog, poison: &[InjectedPoison]) -> Vec<&'static str> {
    check_all(world, traffic, poison)
        .into_iter()
        .filter(|v| !v.holds())
        .map(|v| v.name)
        .collect()
}

#[test]
fn a_healthy_world_holds_every_invariant() {
    let (world, traffic, poison) = healthy();
    let verdicts = check_all(&world, &traffic, &poison);

    let failing: Vec<_> = verdicts.iter().filter(|v| !v.holds()).collect();
    assert!(failing.is_empty(), "{failing:#?}");
    // Everything is looked at, except open orders: a healthy world after quiesce has none.
    assert!(
        verdicts
            .iter()
            .all(|v| v.checked > 0 || v.name.starts_with("open order")),
        "{verdicts:#?}"
    );
}

#[test]
fn a_reservation_without_an_order_is_a_leak_and_breaks_conservation() {
    let (mut world, traffic, poison) = healthy();
    world
        .movements
        .push(movement("p-1", 5, "reserve", -3, 5, Some("o-leak")));
    world
        .reservations
        .insert("o-leak".into(), vec![("p-1".into(), 3)]);

    let leak = no_leaked_reservation(&world, &Holdings::of(&world));
    assert_eq!(leak.violations, 1);
    assert_eq!(leak.examples, vec!["o-leak holds p-1×3".to_owned()]);
    assert!(leak.note.contains("hold 3 units"), "{}", leak.note);
    assert_eq!(
        broken(&world, &traffic, &poison),
        vec![
            "stock conserved (opening − paid − open = balance)",
            "no leaked reservation (stock held, no order)"
        ]
    );
}

#[test]
fn an_abandoned_key_whose_reservation_holds_stock_is_reported_on_its_key() {
    let (mut world, traffic, poison) = healthy();
    // o-gone's release never happened.
    world
        .movements
        .retain(|m| m.seq != 4 || m.product_id != "p-1");

    let names = broken(&world, &traffic, &poison);
    assert!(names.contains(&"unanswered order: settled, or absent and holding nothing"));
    assert!(names.contains(&"no leaked reservation (stock held, no order)"));
}

#[test]
fn ledger_damage_is_seen_as_inconsistency_and_oversell() {
    let (mut world, traffic, poison) = healthy();
    world
        .movements
        .push(movement("p-2", 4, "reserve", -6, -1, Some("o-failed")));
    let ledger = ledger_consistent(&world);
    assert_eq!(ledger.violations, 0, "a negative balance can still add up");
    assert_eq!(no_oversell(&world).violations, 1);

    world
        .movements
        .push(movement("p-2", 6, "reserve", -1, -2, Some("o-x")));
    assert_eq!(ledger_consistent(&world).violations, 1);
    assert!(broken(&world, &traffic, &poison).len() >= 3);
}

#[test]
fn an_unsettled_order_breaks_settlement_and_the_history_agrees_only_if_it_is_open_there_too() {
    let (mut world, traffic, poison) = healthy();
    world
        .movements
        .push(movement("p-1", 5, "reserve", -1, 7, Some("o-open")));
    world
        .reservations
        .insert("o-open".into(), vec![("p-1".into(), 1)]);
    world.orders.insert(
        "o-open".into(),
        Order {
            id: "o-open".into(),
            user_id: "u1".into(),
            status: CREATED,
            amount: 100,
            lines: vec![("p-1".into(), 1)],
            payment_id: None,
        },
    );
    world.history_orders.insert(
        "o-open".into(),
        HistoryOrder {
            order_id: "o-open".into(),
            user_id: "u1".into(),
            amount: 100,
        },
    );

    assert_eq!(
        broken(&world, &traffic, &poison),
        vec!["every order settled (paid | payment_failed)"]
    );
}

#[test]
fn payments_must_match_their_orders_and_have_one() {
    let (mut world, traffic, poison) = healthy();
    if let Some(p) = world.payments.get_mut("o-paid") {
        p.amount = 199;
    }
    world.payments.insert(
        "o-ghost".into(),
        Payment {
            order_id: "o-ghost".into(),
            payment_id: "pay-9".into(),
            status: "paid".into(),
            amount: 1,
        },
    );

    assert_eq!(
        broken(&world, &traffic, &poison),
        vec![
            "settled order ↔ one payment (status, amount, id)",
            "no payment without its order"
        ]
    );
}

#[test]
fn a_paid_order_that_lost_its_stock_and_a_failed_one_that_kept_it_are_both_seen() {
    let (mut world, traffic, poison) = healthy();
    world
        .movements
        .push(movement("p-1", 5, "release", 2, 10, Some("o-paid")));
    world
        .movements
        .retain(|m| !(m.product_id == "p-2" && m.seq == 3));

    let names = broken(&world, &traffic, &poison);
    assert!(names.contains(&"paid order: stock kept and committed, never released"));
    assert!(names.contains(&"payment_failed order: stock released"));
    assert!(names.contains(&"stock conserved (opening − paid − open = balance)"));
}

#[test]
fn an_acknowledged_order_must_exist_with_its_amount_and_one_key_one_order() {
    let (world, mut traffic, poison) = healthy();
    traffic.attempts.push(attempt(
        "k3",
        Outcome::Created {
            order_id: "o-vanished".into(),
            amount: 5,
        },
    ));
    traffic.attempts.push(attempt(
        "k1",
        Outcome::Created {
            order_id: "o-failed".into(),
            amount: 900,
        },
    ));

    let v = acknowledged_orders_exist(&world, &traffic);
    assert_eq!(v.violations, 2, "{v:#?}");
    assert_eq!(broken(&world, &traffic, &poison).len(), 1);
}

#[test]
fn the_history_must_have_every_order_and_nothing_else() {
    let (mut world, traffic, poison) = healthy();
    world.history_payments.remove("o-paid");
    world.history_orders.insert(
        "o-extra".into(),
        HistoryOrder {
            order_id: "o-extra".into(),
            user_id: "u1".into(),
            amount: 1,
        },
    );

    let v = history_agrees(&world);
    assert_eq!(v.violations, 2, "{v:#?}");
    assert_eq!(broken(&world, &traffic, &poison).len(), 1);
}

#[test]
fn dead_letters_must_be_poison_once_per_group_and_surviving_poison_must_reach_every_group() {
    let (mut world, traffic, poison) = healthy();
    world.dead_letters.push(DeadLetter {
        stream: "PAYMENTS_STREAM".into(),
        id: "30-0".into(),
        group: "orders".into(),
        original_id: "7-0".into(),
        error: "order not found".into(),
    });
    world.dead_letters.push(DeadLetter {
        stream: "ORDERS_STREAM".into(),
        id: "31-0".into(),
        group: "payments".into(),
        original_id: "9-0".into(),
        error: "undecodable".into(),
    });
    world.dead_letters.retain(|l| l.group != "identity");

    let only = dead_letters_only_poison(&world, &poison);
    let every = poison_dead_lettered(&world, &poison);
    assert_eq!(only.violations, 2, "{only:#?}");
    assert_eq!(every.violations, 1, "{every:#?}");
    assert_eq!(
        every.note,
        "2 poison entries written, 1 lost with Redis data"
    );
    assert_eq!(broken(&world, &traffic, &poison).len(), 2);
}

#[test]
fn a_group_behind_its_stream_or_missing_is_not_drained() {
    let (mut world, traffic, poison) = healthy();
    world.streams[1].groups[0].lag = None;
    world.streams[1].groups[0].last_delivered = "7-0".into();
    world.streams[2].groups.clear();

    let v = groups_drained(&world);
    assert_eq!(v.violations, 2, "{v:#?}");
    assert_eq!(broken(&world, &traffic, &poison).len(), 1);
}
