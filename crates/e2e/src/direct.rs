//! Calls straight to `orders`, `products` and the databases, bypassing the gateway: how the
//! pipeline tests drive and inspect the services.

use bson::{Document, doc};
use fred::prelude::ClientLike;
use serde_json::{Value, json};
use shop_streams::Fields;

use crate::Shop;

impl Shop {
    /// `POST /api/orders` as `user`; asserts 201 and returns the order.
    ///
    /// # Panics
    ///
    /// When the order is not created.
    pub async fn place_order(&self, user: &str, lines: &[(&str, i64)]) -> Value {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(id, qty)| json!({ "productId": id, "qty": qty }))
            .collect();
        let response = self
            .orders
            .client
            .post(format!("{}/api/orders", self.orders.address))
            .header("x-user-id", user)
            .json(&json!({ "products": lines }))
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST /api/orders: {error}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(status, 201, "POST /api/orders: {body}");
        body
    }

    /// `GET /api/orders/{id}` as `user`.
    ///
    /// # Panics
    ///
    /// When the order cannot be read.
    pub async fn order(&self, user: &str, order_id: &str) -> Value {
        let response = self
            .orders
            .client
            .get(format!("{}/api/orders/{order_id}", self.orders.address))
            .header("x-user-id", user)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET /api/orders/{order_id}: {error}"));
        assert_eq!(response.status(), 200, "GET /api/orders/{order_id}");
        response.json().await.unwrap_or_default()
    }

    /// Waits until the order has left `created`, and returns it.
    pub async fn settled(&self, user: &str, order_id: &str) -> Value {
        shop_testkit::eventually(&format!("order {order_id} to settle"), || async {
            let order = self.order(user, order_id).await;
            (order["status"] != "created").then_some(order)
        })
        .await
    }

    /// `stockQty` of a product as `GET /api/products/{id}` reports it.
    ///
    /// # Panics
    ///
    /// When the product cannot be read.
    pub async fn stock(&self, product_id: &str) -> i64 {
        let product: Value = self
            .products
            .get(&format!("/api/products/{product_id}"))
            .await
            .json()
            .await
            .unwrap_or_default();
        product["stockQty"]
            .as_i64()
            .unwrap_or_else(|| panic!("no stockQty in {product}"))
    }

    /// The payment documents stored for `order_id` (`_id` is the order id: one, when all is well).
    ///
    /// # Panics
    ///
    /// When the payments database cannot be read.
    pub async fn payments_for(&self, order_id: &str) -> u64 {
        self.count_payments(doc! { "_id": order_id }).await
    }

    /// Every payment document stored.
    pub async fn payments_total(&self) -> u64 {
        self.count_payments(doc! {}).await
    }

    async fn count_payments(&self, filter: Document) -> u64 {
        self.payments_db
            .collection::<Document>(payments::COLLECTION)
            .count_documents(filter)
            .await
            .unwrap_or_else(|error| panic!("counting payments: {error}"))
    }

    /// Every entry of `stream`, oldest first.
    ///
    /// # Panics
    ///
    /// When Redis cannot be read.
    pub async fn entries(&self, stream: &str) -> Vec<Fields> {
        shop_streams::read_all(&self.redis, stream)
            .await
            .unwrap_or_else(|error| panic!("XRANGE {stream}: {error}"))
            .into_iter()
            .map(|(_, fields)| fields)
            .collect()
    }

    /// Moves consumer group `group` of `stream` to `id` (`XGROUP SETID`): entries up to `id` are
    /// never delivered to it, as if it had read and acknowledged them.
    ///
    /// # Panics
    ///
    /// When Redis refuses.
    pub async fn set_group_position(&self, stream: &str, group: &str, id: &str) {
        let _: fred::types::Value = self
            .redis
            .pool()
            .custom(fred::cmd!("XGROUP"), vec!["SETID", stream, group, id])
            .await
            .unwrap_or_else(|error| panic!("XGROUP SETID {stream} {group} {id}: {error}"));
    }

    /// Dead-letters the `OrderCreated` of `order_id` for the payments group, as its runner does
    /// when it gives up on an entry: a copy in `<ORDERS_STREAM>:dlq` saying why (`error`, after 5
    /// deliveries), and the group moved past it. Returns the original entry's id.
    ///
    /// # Panics
    ///
    /// When the entry does not appear or Redis refuses.
    pub async fn dead_letter_order_created(&self, order_id: &str, error: &str) -> String {
        let orders = self.streams.orders.clone();
        let (entry_id, mut copy) = shop_testkit::eventually("the OrderCreated entry", || async {
            shop_streams::read_all(&self.redis, &orders)
                .await
                .ok()?
                .into_iter()
                .find(|(_, fields)| fields.get("orderId") == Some(order_id))
        })
        .await;
        for (name, value) in [
            ("group", "payments"),
            ("originalId", entry_id.as_str()),
            ("deliveries", "5"),
            ("error", error),
        ] {
            copy.push(name, value);
        }
        shop_streams::Publisher::new(self.redis.clone(), 100_000)
            .publish_fields(&shop_streams::dead_letter_stream(&orders), copy)
            .await
            .unwrap_or_else(|error| panic!("dead-lettering: {error}"));
        self.set_group_position(&orders, "payments", &entry_id)
            .await;
        entry_id
    }
}
