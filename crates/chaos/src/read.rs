//! Reading the [`World`] straight from the databases (the `mongodb` driver) and the streams (raw
//! RESP): never through the services, whose view is what is being checked. Collections and fields
//! are the services' own (`services/*/src/store`), read as plain BSON so that a document this code
//! does not expect shows up as a violation instead of a harness crash.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use bson::{Bson, Document, doc};
use futures::TryStreamExt;
use mongodb::Client;
use mongodb::options::ClientOptions;
use shop_streams::dead_letter_stream;

use crate::poison::InjectedPoison;
use crate::redis::RedisView;
use crate::world::{
    DeadLetter, HistoryOrder, HistoryPayment, Movement, Order, Payment, StreamState, World,
};

/// The databases, by the services' defaults (`MONGODB_DATABASE` unset in the chaos stack).
const PRODUCTS_DB: &str = "products";
const ORDERS_DB: &str = "orders";
const PAYMENTS_DB: &str = "payments";
const HISTORY_DB: &str = "order_history";

/// A client of the stack's MongoDB-compatible server.
pub async fn mongo(uri: &str) -> Result<Client> {
    let mut options = ClientOptions::parse(uri).await?;
    options.server_selection_timeout = Some(Duration::from_secs(10));
    options.app_name = Some("shop-chaos".to_owned());
    Ok(Client::with_options(options)?)
}

async fn all(client: &Client, db: &str, collection: &str) -> Result<Vec<Document>> {
    all_projected(client, db, collection, None).await
}

async fn all_projected(
    client: &Client,
    db: &str,
    collection: &str,
    projection: Option<Document>,
) -> Result<Vec<Document>> {
    let handle = client.database(db).collection::<Document>(collection);
    let mut find = handle.find(doc! {});
    if let Some(projection) = projection {
        find = find.projection(projection);
    }
    find.await
        .with_context(|| format!("reading {db}.{collection}"))?
        .try_collect()
        .await
        .with_context(|| format!("reading {db}.{collection}"))
}

fn text(doc: &Document, key: &str) -> String {
    match doc.get(key) {
        Some(Bson::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn opt_text(doc: &Document, key: &str) -> Option<String> {
    match doc.get(key) {
        Some(Bson::String(s)) => Some(s.clone()),
        Some(Bson::Null) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

/// A number stored as int32, int64 or double (what serde made of `i64`, `u32`, ...).
fn int(doc: &Document, key: &str) -> i64 {
    match doc.get(key) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        // Only whole numbers are stored here; a fraction would be a bug worth seeing as a mismatch.
        Some(Bson::Double(x)) => *x as i64,
        _ => i64::MIN,
    }
}

fn lines(doc: &Document, key: &str) -> Vec<(String, i64)> {
    doc.get_array(key)
        .map(|items| {
            items
                .iter()
                .filter_map(Bson::as_document)
                .map(|line| (text(line, "productId"), int(line, "qty")))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads everything the checks need. `poison` says which entries to look for in the streams.
pub async fn world(
    mongo: &Client,
    redis: &RedisView,
    streams: &[String],
    poison: &[InjectedPoison],
) -> Result<World> {
    let catalog = all_projected(mongo, PRODUCTS_DB, "products", Some(doc! { "_id": 1 }))
        .await?
        .iter()
        .map(|d| text(d, "_id"))
        .collect();
    let mut world = World {
        catalog,
        ..World::default()
    };
    world.movements = all(mongo, PRODUCTS_DB, "stock_movements")
        .await?
        .iter()
        .map(|d| Movement {
            id: text(d, "_id"),
            product_id: text(d, "productId"),
            seq: int(d, "seq"),
            delta: int(d, "delta"),
            balance: int(d, "balance"),
            kind: text(d, "kind"),
            reservation_id: opt_text(d, "reservationId"),
        })
        .collect();
    world.reservations = all(mongo, PRODUCTS_DB, "reservations")
        .await?
        .iter()
        .map(|d| (text(d, "_id"), lines(d, "lines")))
        .collect();
    world.outcomes = all(mongo, PRODUCTS_DB, "reservation_outcomes")
        .await?
        .iter()
        .map(|d| (text(d, "_id"), text(d, "outcome")))
        .collect();

    world.orders = all_projected(mongo, ORDERS_DB, "orders", Some(doc! { "outbox": 0 }))
        .await?
        .iter()
        .map(|d| {
            let order = Order {
                id: text(d, "_id"),
                user_id: text(d, "userId"),
                status: i32::try_from(int(d, "orderStatusCode")).unwrap_or(i32::MIN),
                amount: int(d, "orderAmount"),
                lines: lines(d, "products"),
                payment_id: opt_text(d, "paymentId"),
            };
            (order.id.clone(), order)
        })
        .collect();
    world.keys = all(mongo, ORDERS_DB, "idempotency_keys")
        .await?
        .iter()
        .map(|d| (text(d, "_id"), text(d, "orderId")))
        .collect();

    world.payments = all_projected(mongo, PAYMENTS_DB, "payments", Some(doc! { "outbox": 0 }))
        .await?
        .iter()
        .map(|d| {
            let payment = Payment {
                order_id: text(d, "_id"),
                payment_id: text(d, "paymentId"),
                status: text(d, "status"),
                amount: int(d, "amount"),
            };
            (payment.order_id.clone(), payment)
        })
        .collect();

    // The read model: the generation the pointer names (0 without a pointer, a new database).
    let pointer = mongo
        .database(HISTORY_DB)
        .collection::<Document>("meta")
        .find_one(doc! { "_id": "generations" })
        .await
        .context("reading order_history.meta")?;
    world.history_generation = pointer.map_or(0, |p| int(&p, "active").max(0));
    let g = world.history_generation;
    world.history_orders = all(mongo, HISTORY_DB, &format!("orders_created_g{g}"))
        .await?
        .iter()
        .map(|d| {
            let fact = HistoryOrder {
                order_id: text(d, "_id"),
                user_id: text(d, "userId"),
                amount: int(d, "orderAmount"),
            };
            (fact.order_id.clone(), fact)
        })
        .collect();
    world.history_payments = all(mongo, HISTORY_DB, &format!("payments_g{g}"))
        .await?
        .iter()
        .map(|d| {
            let fact = HistoryPayment {
                order_id: text(d, "_id"),
                payment_id: text(d, "paymentId"),
                status: i32::try_from(int(d, "orderStatusCode")).unwrap_or(i32::MIN),
            };
            (fact.order_id.clone(), fact)
        })
        .collect();

    for stream in streams {
        let dlq = dead_letter_stream(stream);
        let letters = redis.read_all(&dlq).await?;
        world.streams.push(StreamState {
            name: stream.clone(),
            length: redis.xlen(stream).await?,
            last_id: redis.last_generated_id(stream).await?,
            groups: redis.groups(stream).await?,
            dead_letters: letters.len() as u64,
        });
        world
            .dead_letters
            .extend(letters.into_iter().map(|entry| DeadLetter {
                stream: stream.clone(),
                group: entry.field("group").unwrap_or_default(),
                original_id: entry.field("originalId").unwrap_or_default(),
                error: entry.field("error").unwrap_or_default(),
                id: entry.id,
            }));
    }
    for injected in poison {
        if let Some(id) = &injected.id
            && redis.exists(&injected.stream, id).await?
        {
            world
                .poison_present
                .insert((injected.stream.clone(), id.clone()));
        }
    }
    Ok(world)
}

/// The quick numbers the quiesce loop watches: orders still `created`, all orders, movements, and
/// the backlog of every group (pending + lag, or "unknown" as 1 when Redis cannot tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pulse {
    pub created: u64,
    pub orders: u64,
    pub movements: u64,
    pub backlog: u64,
}

pub async fn pulse(mongo: &Client, redis: &RedisView, streams: &[String]) -> Result<Pulse> {
    let orders = mongo.database(ORDERS_DB).collection::<Document>("orders");
    let created = orders
        .count_documents(doc! { "orderStatusCode": 1 })
        .await?;
    let total = orders.estimated_document_count().await?;
    let movements = mongo
        .database(PRODUCTS_DB)
        .collection::<Document>("stock_movements")
        .estimated_document_count()
        .await?;
    let mut backlog = 0;
    for stream in streams {
        let last = redis.last_generated_id(stream).await?;
        for group in redis.groups(stream).await? {
            backlog += group.pending + group_lag(&group, &last);
        }
    }
    Ok(Pulse {
        created,
        orders: total,
        movements,
        backlog,
    })
}

/// A group's lag: Redis's own figure, or 0/1 from whether it has read up to the stream's last id
/// when Redis cannot compute one.
pub fn group_lag(group: &crate::redis::GroupInfo, stream_last_id: &str) -> u64 {
    match group.lag {
        Some(lag) => lag,
        None if group.last_delivered == stream_last_id => 0,
        None => 1,
    }
}

/// Counts per key, for the report.
pub fn count_by<K: Ord, I: IntoIterator<Item = K>>(items: I) -> BTreeMap<K, u64> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    counts
}
