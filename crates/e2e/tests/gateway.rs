//! The shop through its one public port: a shopper's journey from registering to the order history,
//! users kept apart, a service outage as clients see it, and the operators' endpoints on a live
//! pipeline (lag, dead letters, rebuild).

use reqwest::Method;
use serde_json::{Value, json};
use shop_e2e::{PAYMENT_MAX_AMOUNT, Shop, Shopper, json_of, product};
use shop_streams::{Publisher, dead_letter_stream};
use shop_testkit::eventually;

fn id(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not an id: {value}"))
}

/// The history item of `order_id` once it has left `created`.
async fn settled_in_history(shop: &Shop, shopper: &Shopper, order_id: &str) -> Value {
    eventually(
        &format!("order {order_id} settled in the history"),
        || async {
            shop.history(shopper)
                .await
                .into_iter()
                .find(|item| item["orderId"] == order_id && item["status"] != "created")
        },
    )
    .await
}

#[tokio::test]
async fn a_shopper_registers_browses_orders_and_finds_the_paid_order_in_the_history() {
    let shop = Shop::start(&[product("p-scarf", 4_999, 10)]).await;
    let ada = shop.register_and_login("ada").await;

    let first = shop
        .call(Method::GET, "/api/products/p-scarf", None, None)
        .await;
    let second = shop
        .call(Method::GET, "/api/products/p-scarf", None, None)
        .await;
    let cache = |response: &reqwest::Response| {
        response
            .headers()
            .get("x-cache")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(cache(&first).as_deref(), Some("MISS"));
    assert_eq!(cache(&second).as_deref(), Some("HIT"));
    assert_eq!(json_of(second, 200, "GET product").await["stockQty"], 10);

    let order = shop.order_as(&ada, &[("p-scarf", 2)]).await;
    let order_id = id(&order["orderId"]);
    assert_eq!(order["userId"], ada.user_id.as_str(), "{order}");
    let settled = shop.settled_for(&ada, order_id).await;
    assert_eq!(settled["status"], "paid", "{settled}");

    let item = settled_in_history(&shop, &ada, order_id).await;
    assert_eq!(item["status"], "paid", "{item}");
    assert_eq!(item["orderAmount"], 9_998);
    assert_eq!(item["paymentId"], settled["paymentId"]);

    let me = eventually("an identity score", || async {
        let me = shop.get_as(&ada, "/api/me").await;
        me["identityScore"].is_number().then_some(me)
    })
    .await;
    assert_eq!(me["userId"], ada.user_id.as_str());
    assert_eq!(me["email"], ada.email.as_str());
    let score = me["identityScore"].as_f64().unwrap_or(-1.0);
    assert!((0.0..=1.0).contains(&score), "{me}");
}

#[tokio::test]
async fn users_are_kept_apart_forged_user_ids_are_ignored_and_logout_ends_the_session() {
    let shop = Shop::start(&[product("p-tee", 1_500, 10)]).await;
    let ada = shop.register_and_login("ada").await;
    let bob = shop.register_and_login("bob").await;
    let order = shop.order_as(&ada, &[("p-tee", 1)]).await;
    let path = format!("/api/orders/{}", id(&order["orderId"]));
    settled_in_history(&shop, &ada, id(&order["orderId"])).await;

    let as_bob = shop.call(Method::GET, &path, Some(&bob.token), None).await;
    let forged = shop
        .gateway
        .client
        .get(format!("{}{path}", shop.gateway.address))
        .bearer_auth(&bob.token)
        .header("x-user-id", &ada.user_id)
        .send()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let forged_alone = shop
        .gateway
        .client
        .get(format!("{}{path}", shop.gateway.address))
        .header("x-user-id", &ada.user_id)
        .send()
        .await
        .unwrap_or_else(|error| panic!("{error}"));

    json_of(as_bob, 404, "bob reading ada's order").await;
    json_of(forged, 404, "bob claiming to be ada").await;
    json_of(forged_alone, 401, "a bare x-user-id").await;
    assert_eq!(shop.history(&bob).await, Vec::<Value>::new());
    assert_eq!(shop.get_as(&bob, "/api/orders").await["total"], 0);

    let logout = shop
        .call(Method::POST, "/api/auth/logout", Some(&bob.token), None)
        .await;
    assert_eq!(logout.status(), 204);
    let after = shop
        .call(Method::GET, "/api/me", Some(&bob.token), None)
        .await;
    json_of(after, 401, "GET /api/me after logout").await;
    shop.get_as(&ada, "/api/me").await;
}

#[tokio::test]
async fn a_stopped_service_is_503_through_the_gateway_and_health_names_it() {
    let mut shop = Shop::start(&[product("p-cap", 900, 10)]).await;
    let ada = shop.register_and_login("ada").await;
    let health = shop.call(Method::GET, "/health", None, None).await;
    assert_eq!(json_of(health, 200, "GET /health").await["status"], "ok");

    shop.stop_order_history().await;

    let history = shop
        .call(Method::GET, "/api/order-history", Some(&ada.token), None)
        .await;
    let history = json_of(history, 503, "GET /api/order-history").await;
    assert_eq!(history["error"]["code"], "service_unavailable");
    assert!(
        history["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("order-history")),
        "{history}"
    );
    // `/health` answers from a round of probes up to a second old (the gateway's HealthCache).
    let health = eventually("GET /health to see order-history down", || async {
        let health = shop.call(Method::GET, "/health", None, None).await;
        (health.status() == 503).then_some(health)
    })
    .await;
    assert_eq!(
        json_of(health, 503, "GET /health").await,
        json!({
            "status": "unavailable",
            "services": {
                "identity": "up",
                "products": "up",
                "orders": "up",
                "payments": "up",
                "order-history": "down",
            }
        })
    );
    let products = shop.call(Method::GET, "/api/products", None, None).await;
    assert_eq!(products.status(), 200, "the rest of the shop still serves");
}

/// The `payments` group's entry in the orders stream's report.
async fn payments_group(shop: &Shop) -> Value {
    let report = shop.stream_report(&shop.streams.orders).await;
    report["groups"]
        .as_array()
        .and_then(|groups| groups.iter().find(|g| g["name"] == "payments"))
        .cloned()
        .unwrap_or_else(|| panic!("no payments group in {report}"))
}

#[tokio::test]
async fn ops_streams_show_the_payments_lag_during_an_outage_and_none_after_catch_up() {
    let mut shop = Shop::start(&[product("p-sock", 500, 100)]).await;
    let ada = shop.register_and_login("ada").await;
    shop.stop_payments().await;

    let mut placed = Vec::new();
    for _ in 0..3 {
        let order = shop.order_as(&ada, &[("p-sock", 1)]).await;
        placed.push(id(&order["orderId"]).to_owned());
    }

    let waiting = eventually("3 orders waiting for payments", || async {
        let group = payments_group(&shop).await;
        (group["lag"] == 3).then_some(group)
    })
    .await;
    assert_eq!(waiting["pending"], 0, "{waiting}");
    shop.start_payments().await;
    let caught_up = eventually("payments to catch up", || async {
        let group = payments_group(&shop).await;
        (group["lag"] == 0 && group["pending"] == 0).then_some(group)
    })
    .await;
    assert!(caught_up["consumers"].as_u64() >= Some(1), "{caught_up}");
    for order_id in &placed {
        assert_eq!(shop.settled_for(&ada, order_id).await["status"], "paid");
    }
}

#[tokio::test]
async fn an_order_whose_entry_was_dead_lettered_is_paid_after_a_replay_through_the_gateway() {
    let mut shop = Shop::start(&[product("p-hat", 2_000, 10)]).await;
    let ada = shop.register_and_login("ada").await;
    shop.stop_payments().await;
    let order = shop.order_as(&ada, &[("p-hat", 1)]).await;
    let order_id = id(&order["orderId"]).to_owned();
    let orders = shop.streams.orders.clone();
    shop.dead_letter_order_created(&order_id, "the payments database was unreachable")
        .await;
    shop.start_payments().await;
    assert_eq!(shop.stream_report(&orders).await["deadLetters"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        shop.get_as(&ada, &format!("/api/orders/{order_id}")).await["status"],
        "created",
        "payments skipped the dead-lettered entry"
    );

    let replay = shop
        .ops(Method::POST, "/api/ops/dead-letters/ORDERS_STREAM/replay")
        .await;

    assert_eq!(
        json_of(replay, 200, "replay").await,
        json!({ "replayed": 1 })
    );
    assert_eq!(shop.settled_for(&ada, &order_id).await["status"], "paid");
    assert_eq!(shop.payments_for(&order_id).await, 1);
    assert_eq!(shop.stream_report(&orders).await["deadLetters"], 0);
}

/// Every group reading the orders stream (payments, identity, order-history) gives up on an
/// undecodable entry on its own, so one poison entry is three dead letters, and replaying them puts
/// three copies back, which are dead-lettered again. Ignored: `shop_streams::replay_dead_letters`
/// reads the dead-letter stream until it is empty, and the runners refill it with the copies as
/// fast as it drains, so the replay never ends (and floods the stream up to its cap). It must
/// replay only the dead letters present when it starts.
#[tokio::test]
async fn a_poison_entry_is_dead_lettered_by_each_group_and_replayed_once() {
    let shop = Shop::start(&[product("p-mug", 1_200, 10)]).await;
    let orders = shop.streams.orders.clone();
    let mut poison = shop_streams::Fields::new();
    poison.push("type", "OrderCreated");
    poison.push("orderId", "o-poison");
    let poison_id = Publisher::new(shop.redis.clone(), 100_000)
        .publish_fields(&orders, poison)
        .await
        .unwrap_or_else(|error| panic!("publishing the poison entry: {error}"));

    eventually("the poison entry dead-lettered by every group", || async {
        let report = shop.stream_report(&orders).await;
        (report["deadLetters"] == 3).then_some(())
    })
    .await;
    let dead = shop.entries(&dead_letter_stream(&orders)).await;
    assert!(
        dead.iter()
            .all(|f| f.get("originalId") == Some(poison_id.as_str())),
        "{dead:?}"
    );
    let replay = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        shop.ops(Method::POST, "/api/ops/dead-letters/ORDERS_STREAM/replay"),
    )
    .await
    .unwrap_or_else(|_| panic!("the replay did not finish in 20 s"));

    assert_eq!(
        json_of(replay, 200, "replay").await,
        json!({ "replayed": 1 })
    );
    let copies = shop
        .entries(&orders)
        .await
        .into_iter()
        .filter(|fields| fields.get("orderId") == Some("o-poison"))
        .count();
    assert_eq!(
        copies,
        1 + 1,
        "the original and one replayed copy, not one per group"
    );
    // Still poison: every group dead-letters the replayed copy once more, and the replay is over.
    eventually("the replayed copy dead-lettered by every group", || async {
        let report = shop.stream_report(&orders).await;
        (report["deadLetters"] == 3).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rebuilding_order_history_through_the_gateway_gives_the_same_history() {
    let shop = Shop::start(&[
        product("p-belt", 2_500, 10),
        product("p-coat", PAYMENT_MAX_AMOUNT + 1, 10),
    ])
    .await;
    let ada = shop.register_and_login("ada").await;
    let paid = shop.order_as(&ada, &[("p-belt", 1)]).await;
    let declined = shop.order_as(&ada, &[("p-coat", 1)]).await;
    settled_in_history(&shop, &ada, id(&paid["orderId"])).await;
    settled_in_history(&shop, &ada, id(&declined["orderId"])).await;
    let before = shop.history(&ada).await;

    let rebuilt = shop
        .ops(Method::POST, "/api/ops/order-history/rebuild")
        .await;

    let rebuilt = json_of(rebuilt, 200, "rebuild").await;
    assert_eq!(
        rebuilt["events"], 4,
        "2 OrderCreated + 2 PaymentProcessed: {rebuilt}"
    );
    assert_eq!(shop.history(&ada).await, before);
    let statuses: Vec<&Value> = before.iter().map(|item| &item["status"]).collect();
    assert_eq!(
        statuses,
        [&json!("payment_failed"), &json!("paid")],
        "newest first"
    );
}

#[tokio::test]
async fn the_timeline_of_a_paid_order_holds_both_streams_its_outbox_stock_movement_and_payment() {
    let shop = Shop::start(&[product("p-cap", 1_500, 10)]).await;
    let ada = shop.register_and_login("ada").await;
    let order = shop.order_as(&ada, &[("p-cap", 2)]).await;
    let order_id = id(&order["orderId"]).to_owned();
    shop.settled_for(&ada, &order_id).await;
    let path = format!("/api/ops/orders/{order_id}/timeline");

    // Settled on the order first; every group's acknowledgement and the stock commit follow.
    let timeline = eventually("every group acked and the stock committed", || async {
        let timeline = json_of(shop.ops(Method::GET, &path).await, 200, "GET timeline").await;
        let events = timeline["events"].as_array()?;
        let all_acked = events.iter().all(|event| {
            event["groups"]
                .as_array()
                .is_some_and(|groups| groups.iter().all(|g| g["state"] == "acked"))
        });
        (events.len() == 2 && all_acked && timeline["stock"]["outcome"] == "committed")
            .then_some(timeline)
    })
    .await;

    let events = &timeline["events"];
    assert_eq!(events[0]["type"], "OrderCreated", "{timeline}");
    assert_eq!(events[0]["stream"], shop.streams.orders.as_str());
    assert_eq!(events[1]["type"], "PaymentProcessed");
    assert_eq!(events[1]["stream"], shop.streams.payments.as_str());
    let groups = |event: &Value| -> Vec<String> {
        let mut names: Vec<String> = event["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["group"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        groups(&events[0]),
        ["identity", "order-history", "payments"]
    );
    assert_eq!(groups(&events[1]), ["order-history", "orders", "products"]);
    assert_eq!(timeline["outbox"]["outbox"]["pending"], false, "{timeline}");
    assert_eq!(timeline["outbox"]["outbox"]["type"], "OrderCreated");
    assert!(timeline["outbox"]["outbox"]["publishedAt"].is_string());
    assert_eq!(timeline["outbox"]["settlement"]["orderStatusCode"], 3);
    let movements = timeline["stock"]["movements"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(movements.len(), 1, "{timeline}");
    assert_eq!(movements[0]["kind"], "reserve");
    assert_eq!(movements[0]["delta"], -2);
    assert_eq!(movements[0]["balance"], 8);
    assert_eq!(timeline["payment"]["orderId"], order_id.as_str());
    assert_eq!(timeline["unavailable"], json!([]));
}
